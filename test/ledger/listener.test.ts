// The ledger listener on a chain of this file's own (an anvil it starts, so snapshots and reverts
// disturb no other test): events reach SQL once and in chain order, bounded ranges survive a node's
// range limit, an outage is ridden out, a reorganisation is rolled back and read again, a killed
// `tracewell listener` restarts where it was, and `verify` finds a row edited by hand.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { and, asc, eq, sql } from 'drizzle-orm';
import { createWalletClient, getAddress, http, zeroHash } from 'viem';
import type { Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { partRegistryAbi, partRegistryBytecode } from '../../contracts/generated/PartRegistry.js';
import { openDatabase } from '../../db/client.js';
import type { Database } from '../../db/client.js';
import { ledgerCursors, ledgerEvents, ledgerReorgs, ownership } from '../../db/schema.js';
import { freePort } from '../../app/devstack/process.js';
import type { RunningService } from '../../app/devstack/process.js';
import { DEV_MNEMONIC, startAnvil } from '../../app/devstack/services.js';
import { connectChain } from '../../domain/chain/connection.js';
import type { ChainConnection } from '../../domain/chain/connection.js';
import { bloomMayContain, LedgerListener } from '../../domain/mirror/listener.js';
import type { ListenerOptions } from '../../domain/mirror/listener.js';
import { PartRegistry, REGISTRAR_ROLE, tokenIdOf } from '../../domain/chain/part-registry.js';
import { mirrorStatus } from '../../domain/mirror/mirror-status.js';
import { verifyMirror } from '../../domain/mirror/verify.js';
import { testAppConfig, uniqueId } from '../support/env.js';
import { deploymentInputs } from '../../app/deploy/inputs.js';
import { recordDeployment } from '../../db/deployments.js';
import { knownMigrations } from '../../db/migration-status.js';
import { startRpcGate } from '../../tools/faults/rpc-gate.js';
import type { RpcGate } from '../../tools/faults/rpc-gate.js';
import { until } from '../support/until.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CHAIN_ID = 31_999;
const admin = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 });
const alice = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 1 });
const bob = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 2 });
type Account = typeof admin;

let anvil: RunningService;
let chain: ChainConnection;
let database: Database;
let registry: PartRegistry;
let deployBlock: bigint;
let gate: RpcGate;
const listeners: LedgerListener[] = [];

function wallet(account: Account) {
  return createWalletClient({ account, chain: chain.client.chain, transport: http(chain.rpcUrl) });
}

async function send(account: Account, data: Hex): Promise<Hex> {
  const hash = await wallet(account).sendTransaction({ to: registry.address, data });
  const receipt = await chain.client.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('success');
  return hash;
}

/** Registers a part held by alice (two events: Transfer from zero, PartRegistered). */
async function register(partId = uniqueId()): Promise<string> {
  await send(alice, registry.registerCall(partId, zeroHash, []));
  return partId;
}

async function rpc<T>(method: string, params: unknown[] = []): Promise<T> {
  const answer = await fetch(chain.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await answer.json()) as { result: T; error?: { message: string } };
  if (body.error) throw new Error(body.error.message);
  return body.result;
}

/** A listener of this file's contract, reading through `rpcUrl` (default: the chain itself). */
async function listener(options: Partial<ListenerOptions> = {}, rpcUrl = chain.rpcUrl): Promise<LedgerListener> {
  const connection = rpcUrl === chain.rpcUrl ? chain : await connectChain(rpcUrl);
  const made = new LedgerListener(database.db, new PartRegistry(connection.client, registry.address), CHAIN_ID, {
    startBlock: deployBlock,
    ...options,
  });
  listeners.push(made);
  return made;
}

/** The mirrored rows of this file's contract, in sequence order. */
function mirrored() {
  return database.db
    .select()
    .from(ledgerEvents)
    .where(and(eq(ledgerEvents.chainId, CHAIN_ID), eq(ledgerEvents.address, registry.address)))
    .orderBy(asc(ledgerEvents.id));
}

/** Every log of the contract on chain now, as `block:logIndex:txHash`, in chain order. */
async function chainLogs(): Promise<string[]> {
  const logs = await chain.client.getLogs({ address: registry.address, fromBlock: deployBlock, toBlock: 'latest' });
  return logs.map((log) => `${log.blockNumber}:${log.logIndex}:${log.transactionHash}`);
}

async function mirrorMatchesChain(): Promise<void> {
  const rows = await mirrored();
  expect(rows.map((row) => `${row.blockNumber}:${row.logIndex}:${row.txHash}`)).toEqual(await chainLogs());
  const report = await verifyMirror(database.db, chain.client, { chainId: CHAIN_ID, address: registry.address });
  expect(report.drift).toEqual([]);
  expect(report.ok).toBe(true);
}

beforeAll(async () => {
  const port = await freePort();
  anvil = await startAnvil({ port, chainId: CHAIN_ID });
  chain = await connectChain(`http://127.0.0.1:${port}`);
  database = await openDatabase({ url: inject('databaseUrl') || undefined });
  await database.migrate();
  const hash = await wallet(admin).deployContract({ abi: partRegistryAbi, bytecode: partRegistryBytecode, args: [admin.address] });
  const receipt = await chain.client.waitForTransactionReceipt({ hash });
  deployBlock = receipt.blockNumber;
  registry = new PartRegistry(chain.client, getAddress(receipt.contractAddress!));
  await send(admin, registry.grantRoleCall(REGISTRAR_ROLE, alice.address));
  gate = await startRpcGate(chain.rpcUrl);
});

afterAll(async () => {
  for (const made of listeners) await made.stop();
  await gate?.close();
  await database?.close();
  await anvil?.stop();
});

describe('ledger listener', () => {
  it('mirrors every event once, in chain order, hash-chained, with its effects on custody', async () => {
    const first = await register();
    const second = await register();
    await send(alice, registry.transferCall(alice.address, bob.address, tokenIdOf(first)));
    const mirror = await listener();
    await mirror.catchUp();
    await mirror.catchUp(); // a second catch-up finds nothing new and writes nothing twice

    const rows = await mirrored();
    // The deployment grants the admin its roles; then alice's role, the two parts and the transfer.
    const deployment = rows.filter((row) => BigInt(row.blockNumber) === deployBlock);
    expect(deployment.length).toBeGreaterThan(0);
    expect(deployment.every((row) => row.name === 'RoleGranted')).toBe(true);
    expect(rows.slice(deployment.length).map((row) => row.name)).toEqual([
      'RoleGranted',
      'Transfer',
      'PartRegistered',
      'Transfer',
      'PartRegistered',
      'Transfer',
    ]);
    expect(rows.filter((row) => row.name === 'PartRegistered').map((row) => row.args.part)).toEqual([first, second]);
    for (const [index, row] of rows.entries()) {
      if (index > 0) expect(row.prevHash).toBe(rows[index - 1]!.hash);
      expect(row.topics[0]).toMatch(/^0x[0-9a-f]{64}$/);
    }
    const custody = await database.db.select().from(ownership).where(eq(ownership.partId, first)).orderBy(asc(ownership.id));
    expect(custody.map((row) => row.toAddress)).toEqual([alice.address, bob.address]);
    await mirrorMatchesChain();
  });

  it('stores a NUL in a part id as U+FFFD in the event and the custody it projects, and keeps going', async () => {
    const raw = `${uniqueId()}\u0000x`;
    const stored = raw.replace('\u0000', '\uFFFD');
    await register(raw);
    const mirror = await listener();
    await mirror.catchUp(); // the id from PartRegistered
    await send(alice, registry.transferCall(alice.address, bob.address, tokenIdOf(raw)));
    await mirror.catchUp(); // the id read back from the chain
    const rows = (await mirrored()).filter((row) => row.partIds.includes(stored));
    expect(rows.map((row) => row.name)).toEqual(['Transfer', 'PartRegistered', 'Transfer']);
    const custody = await database.db.select().from(ownership).where(eq(ownership.partId, stored)).orderBy(asc(ownership.id));
    expect(custody.map((row) => row.toAddress)).toEqual([alice.address, bob.address]);
    await mirrorMatchesChain();
  });

  it("reads a block's logs bloom as the yellow paper does", async () => {
    const rows = await mirrored();
    const block = await chain.client.getBlock({ blockNumber: BigInt(rows.at(-1)!.blockNumber) });
    expect(bloomMayContain(block.logsBloom, registry.address)).toBe(true);
    expect(bloomMayContain(block.logsBloom, registry.address.toLowerCase())).toBe(true);
    // An empty block's bloom holds nothing.
    await rpc('anvil_mine', ['0x1']);
    const empty = await chain.client.getBlock({ blockTag: 'latest' });
    expect(bloomMayContain(empty.logsBloom, registry.address)).toBe(false);
  });

  it('reads in bounded ranges and narrows them while the node refuses a range', async () => {
    for (let i = 0; i < 6; i += 1) await register();
    gate.maxLogRange = 2;
    const refusedBefore = gate.refusedLogRanges;
    const mirror = await listener({ batchBlocks: 5 }, gate.url);
    await mirror.catchUp();
    gate.maxLogRange = undefined;
    expect(gate.refusedLogRanges).toBeGreaterThan(refusedBefore);
    await mirrorMatchesChain();
  });

  it('waits for confirmations before mirroring a block', async () => {
    const mirror = await listener({ confirmations: 2 });
    await mirror.catchUp();
    const partId = await register();
    await mirror.catchUp();
    expect((await mirrored()).some((row) => row.args.part === partId)).toBe(false);
    await rpc('anvil_mine', ['0x2']);
    await mirror.catchUp();
    expect((await mirrored()).some((row) => row.args.part === partId)).toBe(true);
    await mirrorMatchesChain();
  });

  it('rides out an RPC outage with backoff and catches up when the node is back', async () => {
    const mirror = await listener({ pollMs: 20, backoff: { initialMs: 20, maxMs: 100 } }, gate.url);
    mirror.start();
    gate.mode = 'down';
    const partId = await register();
    const status = await until('a failed pass', async () => {
      const current = await mirror.status();
      return (current.lastError?.failures ?? 0) >= 2 && current;
    });
    expect(status.lastError?.message).toBeTruthy();
    // Other processes (the API's /ops/listener) see it in SQL.
    const ledger = { chainId: CHAIN_ID, address: registry.address };
    expect((await mirrorStatus(database.db, chain.client, ledger)).lastError).toMatchObject({ failures: expect.any(Number) });
    gate.mode = 'open';
    await until('the part mirrored', async () => (await mirrored()).some((row) => row.args.part === partId));
    expect((await mirror.status()).lastError).toBeNull();
    expect((await mirrorStatus(database.db, chain.client, ledger)).lastError).toBeNull();
    await mirror.stop();
    await mirrorMatchesChain();
  });

  it('detects a reorganisation (anvil snapshot and revert), rolls the mirror back and reads the new chain', async () => {
    const mirror = await listener();
    await mirror.catchUp();
    const snapshot = await rpc<string>('evm_snapshot');
    const orphan = await register();
    await send(alice, registry.transferCall(alice.address, bob.address, tokenIdOf(orphan)));
    await mirror.catchUp();
    expect((await mirrored()).filter((row) => row.partIds.includes(orphan))).toHaveLength(3);
    expect(await database.db.select().from(ownership).where(eq(ownership.partId, orphan))).toHaveLength(2);

    // The fork: the two blocks are replaced by other blocks at the same heights.
    expect(await rpc<boolean>('evm_revert', [snapshot])).toBe(true);
    const survivor = await register();
    await rpc('anvil_mine', ['0x1']);
    await mirror.catchUp();

    const rows = await mirrored();
    expect(rows.some((row) => row.partIds.includes(orphan))).toBe(false);
    expect(rows.filter((row) => row.partIds.includes(survivor)).map((row) => row.name)).toEqual(['Transfer', 'PartRegistered']);
    expect(await database.db.select().from(ownership).where(eq(ownership.partId, orphan))).toHaveLength(0);
    const [reorg] = await database.db
      .select()
      .from(ledgerReorgs)
      .where(and(eq(ledgerReorgs.chainId, CHAIN_ID), eq(ledgerReorgs.address, registry.address)));
    expect(reorg).toMatchObject({ removedEvents: 3 });
    expect(reorg!.removed.map((event) => event.name)).toEqual(['Transfer', 'PartRegistered', 'Transfer']);
    await mirrorMatchesChain();
  });

  // Two processes share the mirror only on PostgreSQL (PGlite is one process's): CI runs it there.
  it.skipIf(!inject('databaseUrl'))(
    'loses and duplicates nothing when `tracewell listener` is killed mid-stream and restarted',
    async () => {
      const databaseUrl = inject('databaseUrl');
      const env = {
        ...process.env,
        DATABASE_URL: databaseUrl,
        CHAIN_RPC_URL: chain.rpcUrl,
        PART_REGISTRY_ADDRESS: registry.address,
        LEDGER_BATCH_BLOCKS: '1',
        LEDGER_POLL_MS: '20',
      };
      // Node itself with tsx's loader: the tsx command would run the listener in a child process of its
      // own, which SIGKILL would leave running.
      const run = (): ChildProcess =>
        spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'app', 'cli', 'tracewell.ts'), 'listener'], {
          cwd: ROOT,
          env,
          stdio: 'ignore',
        });
      // By chain too: the run's other stacks deploy a PartRegistry at this same address on their chains.
      const cursor = async () => {
        const [row] = await database.db
          .select()
          .from(ledgerCursors)
          .where(and(eq(ledgerCursors.chainId, CHAIN_ID), eq(ledgerCursors.address, registry.address)));
        return BigInt(row!.blockNumber);
      };
      // `tracewell listener` starts only on a deployed chain: record this file's contract as the chain's
      // deployment, an external PartRegistry (PART_REGISTRY_ADDRESS) as `tracewell deploy` records it.
      // No seeding here: its role grants would be events this test does not count.
      const deployment = { ...deploymentInputs(testAppConfig()), registryBytecodeHash: null };
      await recordDeployment(database.db, {
        ...deployment,
        chainId: CHAIN_ID,
        partRegistry: registry.address,
        schemaTag: knownMigrations().at(-1)!.tag,
      });
      const before = (await mirrored()).length;
      for (let i = 0; i < 12; i += 1) await register();
      let child = run();
      // Killed while it is still working through the blocks, one per pass.
      await until('the listener halfway', async () => (await mirrored()).length >= before + 6, 60_000);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const atKill = (await mirrored()).length;
      for (let i = 0; i < 4; i += 1) await register();
      child = run();
      try {
        const head = await chain.client.getBlockNumber({ cacheTime: 0 });
        await until('the restarted listener at the head', async () => (await cursor()) >= head, 60_000);
      } finally {
        child.kill('SIGTERM');
        await new Promise((resolve) => child.once('exit', resolve));
      }
      expect(atKill).toBeLessThan(before + 32);
      const reorgs = await database.db
        .select()
        .from(ledgerReorgs)
        .where(and(eq(ledgerReorgs.chainId, CHAIN_ID), eq(ledgerReorgs.address, registry.address)));
      expect({ rows: (await mirrored()).length, reorgs: reorgs.length }).toEqual({ rows: before + 32, reorgs: 1 });
      await mirrorMatchesChain();
    },
  );

  it('verify reports a mirrored row edited by hand, row by row', async () => {
    const rows = await mirrored();
    const target = rows.find((row) => row.name === 'Transfer' && row.args.toAddress === bob.address)!;
    await database.db.execute(
      sql`update ledger_events set args = jsonb_set(args, '{toAddress}', to_jsonb(${alice.address}::text)) where id = ${target.id}`,
    );
    const moved = rows.find((row) => row.name === 'PartRegistered')!;
    await database.db.execute(sql`update ledger_events set tx_hash = ${`0x${'ab'.repeat(32)}`} where id = ${moved.id}`);

    const report = await verifyMirror(database.db, chain.client, { chainId: CHAIN_ID, address: registry.address });
    expect(report.ok).toBe(false);
    const bySeq = (seq: number) =>
      report.drift
        .filter((item) => item.seq === seq)
        .map((item) => item.kind)
        .sort();
    // The edited transfer no longer matches its hash, nor the custody row it made.
    expect(bySeq(target.id)).toEqual(['hash_mismatch', 'projection']);
    expect(bySeq(moved.id)).toEqual(['different', 'hash_mismatch']);
    expect(report.drift.find((item) => item.kind === 'different')!.fields).toEqual([
      { field: 'txHash', mirror: `0x${'ab'.repeat(32)}`, chain: moved.txHash },
    ]);
    const orphaned = report.drift.filter((item) => item.kind === 'projection' && item.seq === undefined);
    expect(orphaned.map((item) => item.message)).toEqual([
      expect.stringMatching(/^ownership of .* to 0x[0-9a-fA-F]{40} has no Transfer event behind it$/),
    ]);
    expect(orphaned[0]!.txHash).toBe(target.txHash);
    expect(report.drift).toHaveLength(5);
  });

  it('verify reports a custody row changed by hand', async () => {
    const partId = await register();
    await (await listener()).catchUp();
    const before = await verifyMirror(database.db, chain.client, { chainId: CHAIN_ID, address: registry.address });
    await database.db.update(ownership).set({ toAddress: bob.address }).where(eq(ownership.partId, partId));
    const after = await verifyMirror(database.db, chain.client, { chainId: CHAIN_ID, address: registry.address });
    const added = after.drift.filter((item) => !before.drift.some((earlier) => earlier.message === item.message));
    expect(added.map((item) => item.kind)).toEqual(['projection', 'projection']);
    expect(added.map((item) => item.message).sort()).toEqual([
      `Transfer of ${partId} has no ownership row`,
      `ownership of ${partId} to ${bob.address} has no Transfer event behind it`,
    ]);
  });
});
