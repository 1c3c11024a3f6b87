// The ledger-and-SQL core shared by the worker and the API: the database (migrated), the chain
// connection, the key store, the PartRegistry (found or deployed), the seeded participants and the
// lifecycle definitions of the lifecycles/ folder.
import { join } from 'node:path';
import type { Address } from 'viem';
import type { AppConfig } from '../config/app.js';
import { ConfigError } from '../config/errors.js';
import { openDatabase } from '../db/client.js';
import type { Database } from '../db/client.js';
import { connectChain } from '../ledger/chain.js';
import type { ChainConnection } from '../ledger/chain.js';
import { HdKeyStore, REGISTRAR_KEY_REF } from '../ledger/keystore.js';
import type { KeyStore } from '../ledger/keystore.js';
import { PartRegistry } from '../ledger/part-registry.js';
import { TxSender } from '../ledger/tx-sender.js';
import type { ActivityDeps } from '../activities/index.js';
import { publishDirectory } from '../definitions/publish.js';
import { ensurePartRegistry } from './deploy.js';
import { fundParticipantsForDev, loadParticipantsFile, seedParticipants } from './participants.js';

export interface Core {
  database: Database;
  chain: ChainConnection;
  keys: KeyStore;
  registry: PartRegistry;
  txSender: TxSender;
  activityDeps: ActivityDeps;
  close(): Promise<void>;
}

export interface CoreOptions {
  config: AppConfig;
  /** RPC URL of the chain (CHAIN_RPC_URL, or the embedded anvil's). */
  rpcUrl: string;
  /** Dev mode: the dev mnemonic is allowed and participants get gas money. */
  dev: boolean;
  /** May deploy the PartRegistry when none is known (dev, tests, `tracewell deploy`); default false. */
  deploy?: boolean;
  devMnemonic?: string;
  log?: (line: string) => void;
}

export async function openCore(options: CoreOptions): Promise<Core> {
  const { config, log = () => {} } = options;
  const mnemonic = config.CHAIN_MNEMONIC ?? (options.dev ? options.devMnemonic : undefined);
  if (!mnemonic) throw new ConfigError('CHAIN_MNEMONIC: required outside `tracewell dev` (the key store derives ledger keys from it)');
  const seeds = loadParticipantsFile(config.TRACEWELL_PARTICIPANTS);

  const database = await openDatabase({
    url: config.DATABASE_URL,
    pgliteDir: config.TRACEWELL_DATA_DIR ? join(config.TRACEWELL_DATA_DIR, 'pglite') : undefined,
  });
  try {
    await database.migrate();
    const chain = await connectChain(options.rpcUrl);
    const keys = new HdKeyStore(mnemonic);
    const txSender = new TxSender(database.db, chain, config.CHAIN_RECEIPT_TIMEOUT);
    const deployment = await ensurePartRegistry(database.db, chain, keys.account(REGISTRAR_KEY_REF), config.PART_REGISTRY_ADDRESS, options.deploy ?? false);
    log(`PartRegistry ${deployment.deployed ? 'deployed at' : 'found at'} ${deployment.address} (chain ${chain.chainId})`);
    const registry = new PartRegistry(chain.client, deployment.address as Address);
    await seedParticipants(database.db, keys, seeds);
    await publishDirectory(database.db, config.TRACEWELL_LIFECYCLES, log);
    if (options.dev) await fundParticipantsForDev(chain, txSender, keys, REGISTRAR_KEY_REF, seeds);
    return {
      database,
      chain,
      keys,
      registry,
      txSender,
      activityDeps: { db: database.db, keys, registry, txSender, registrarKeyRef: REGISTRAR_KEY_REF },
      close: () => database.close(),
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
