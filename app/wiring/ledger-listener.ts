// The ledger listener of a core: where it starts reading, and its settings from the environment.
import { and, eq } from 'drizzle-orm';
import { getAddress } from 'viem';
import type { Address, Hex } from 'viem';
import type { AppConfig } from '../config/app-config.js';
import { ConfigError } from '../config/config-error.js';
import { openDatabase } from '../../db/client.js';
import type { Database, Db } from '../../db/client.js';
import { contractDeployments } from '../../db/schema.js';
import { connectChain } from '../../domain/chain/connection.js';
import type { ChainConnection } from '../../domain/chain/connection.js';
import { LedgerListener } from '../../domain/mirror/listener.js';
import { PartRegistry } from '../../domain/chain/part-registry.js';
import { MirrorSignal } from '../../domain/streams/mirror-signal.js';
import { requireCurrentDeployment } from '../deploy/readiness.js';

/**
 * The block the contract was deployed in, when this service deployed it (nothing before it can hold
 * its events); otherwise LEDGER_START_BLOCK, or the chain's first block.
 */
export async function ledgerStartBlock(db: Db, chain: ChainConnection, address: Address, configured?: number): Promise<bigint> {
  if (configured !== undefined) return BigInt(configured);
  const [deployment] = await db
    .select({ address: contractDeployments.address, txHash: contractDeployments.txHash })
    .from(contractDeployments)
    .where(and(eq(contractDeployments.chainId, chain.chainId), eq(contractDeployments.address, getAddress(address))));
  if (!deployment) return 0n;
  // An unreachable node is an error, not block 0: the first cursor written keeps its start block.
  const receipt = await chain.client.getTransactionReceipt({ hash: deployment.txHash as Hex });
  return receipt.blockNumber;
}

export async function openLedgerListener(
  db: Db,
  chain: ChainConnection,
  registry: PartRegistry,
  config: AppConfig,
  signal: MirrorSignal,
  log?: (line: string) => void,
): Promise<LedgerListener> {
  return new LedgerListener(db, registry, chain.chainId, {
    startBlock: await ledgerStartBlock(db, chain, registry.address, config.LEDGER_START_BLOCK),
    confirmations: config.LEDGER_CONFIRMATIONS,
    batchBlocks: config.LEDGER_BATCH_BLOCKS,
    pollMs: config.LEDGER_POLL_MS,
    signal,
    log,
  });
}

/** What `tracewell listener` and `tracewell verify` need: SQL, the chain and the contract; no keys, no blobs. */
export interface LedgerProcess {
  database: Database;
  chain: ChainConnection;
  registry: PartRegistry;
  listener: LedgerListener;
  signal: MirrorSignal;
  close(): Promise<void>;
}

/** The database and chain a ledger process reads: PostgreSQL or a stopped dev stack's PGlite. */
export interface LedgerSource {
  databaseUrl?: string;
  pgliteDir?: string;
  rpcUrl: string;
}

/** DATABASE_URL and CHAIN_RPC_URL, as `tracewell listener` takes them. */
export function ledgerSourceOf(config: AppConfig): LedgerSource {
  if (!config.DATABASE_URL) throw new ConfigError('DATABASE_URL: required outside `tracewell dev` (which embeds PGlite)');
  if (!config.CHAIN_RPC_URL) throw new ConfigError('CHAIN_RPC_URL: required outside `tracewell dev` (which starts anvil)');
  return { databaseUrl: config.DATABASE_URL, rpcUrl: config.CHAIN_RPC_URL };
}

/** Checks, like every process, that the schema and the deployment are current; changes neither. */
export async function openLedgerProcess(
  config: AppConfig,
  options: { log?: (line: string) => void; source?: LedgerSource } = {},
): Promise<LedgerProcess> {
  const { log } = options;
  const source = options.source ?? ledgerSourceOf(config);
  const database = await openDatabase({ url: source.databaseUrl, pgliteDir: source.pgliteDir });
  try {
    const chain = await connectChain(source.rpcUrl);
    const address = await requireCurrentDeployment({ db: database.db, chain, config });
    const registry = new PartRegistry(chain.client, address);
    const signal = new MirrorSignal();
    const listener = await openLedgerListener(database.db, chain, registry, config, signal, log);
    return { database, chain, registry, listener, signal, close: () => database.close() };
  } catch (error) {
    await database.close();
    throw error;
  }
}
