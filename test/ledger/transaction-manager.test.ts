// The ledger transaction manager on real anvil and PostgreSQL: intents of one signer batched into one
// PartRegistry.batch transaction (a bad item fails alone, with its contract error), two managers
// with their own pools (two workers) sharing one signer, and a leader killed mid-batch whose
// survivor finishes with nothing lost and nothing sent twice.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { and, eq, gte, inArray } from 'drizzle-orm';
import { createWalletClient, http, zeroHash } from 'viem';
import type { Address, LocalAccount } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { partRegistryAbi, partRegistryBytecode } from '../../contracts/generated/PartRegistry.js';
import { createScratchDatabase } from '../../app/devstack/scratch-database.js';
import type { ScratchDatabase } from '../../app/devstack/scratch-database.js';
import { DEV_MNEMONIC } from '../../app/devstack/services.js';
import { openDatabase } from '../../db/client.js';
import type { Database } from '../../db/client.js';
import { chainIntents, chainTxs } from '../../db/schema.js';
import { connectChain } from '../../domain/chain/connection.js';
import type { ChainConnection } from '../../domain/chain/connection.js';
import { PartRegistry, REGISTRAR_ROLE, tokenIdOf } from '../../domain/chain/part-registry.js';
import { DEFAULT_LEDGER_SETTINGS, TransactionManager } from '../../domain/chain/transaction-manager.js';
import type { LedgerSettings, SignerHook, SignerTick } from '../../domain/chain/transaction-manager.js';
import type { ChainWrite } from '../../domain/chain/tx-sender.js';
import { uniqueId } from '../support/env.js';
import { until } from '../support/until.js';

const ROOT = join(import.meta.dirname, '..', '..');
// Anvil funds the dev mnemonic's first ten accounts: 0 deploys this file's registry; 3 and 4 sign.
const admin = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 });
const SIGNER_INDEX = 3;
const signer = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: SIGNER_INDEX });
const other = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 4 });

let scratch: ScratchDatabase;
let chain: ChainConnection;
let registry: PartRegistry;
const databases: Database[] = [];
const managers: TransactionManager[] = [];
const children: ChildProcess[] = [];

async function database(): Promise<Database> {
  const opened = await openDatabase({ url: scratch.url, poolSize: 5 });
  databases.push(opened);
  return opened;
}

async function manager(db: Database, settings: Partial<LedgerSettings> = {}, hook?: SignerHook): Promise<TransactionManager> {
  const made = new TransactionManager({
    db: db.db,
    locks: db,
    chain,
    registry: registry.address,
    settings: { ...DEFAULT_LEDGER_SETTINGS, ...settings },
    hook,
  });
  managers.push(made);
  return made;
}

function mintWrite(partId: string, account: LocalAccount = signer, sources: bigint[] = []): ChainWrite {
  return {
    key: `mint:${partId}`,
    account,
    to: registry.address,
    data: registry.registerCall(partId, zeroHash, sources),
    abi: partRegistryAbi,
    isDone: () => registry.exists(tokenIdOf(partId)),
  };
}

async function rpc(method: string, params: unknown[] = []): Promise<void> {
  await chain.client.request({ method: method as never, params: params as never });
}

async function registeredEvents(partId: string) {
  return chain.client.getContractEvents({
    address: registry.address,
    abi: partRegistryAbi,
    eventName: 'PartRegistered',
    args: { tokenId: tokenIdOf(partId) },
    fromBlock: 0n,
  });
}

/** The signer's stored transactions that count (not replaced): one per nonce, consecutive. */
async function expectOneTxPerNonce(db: Database, account: Address, since: number) {
  const rows = await db.db
    .select()
    .from(chainTxs)
    .where(and(eq(chainTxs.fromAddress, account), eq(chainTxs.chainId, chain.chainId)));
  const live = rows.filter((row) => row.status !== 'replaced' && row.nonce >= since);
  const nonces = live.map((row) => row.nonce).sort((a, b) => a - b);
  expect(new Set(nonces).size).toBe(nonces.length);
  expect(nonces).toEqual(nonces.map((_, i) => since + i));
  const onChain = await chain.client.getTransactionCount({ address: account });
  expect(onChain).toBe(since + nonces.length);
  return live;
}

beforeAll(async () => {
  scratch = await createScratchDatabase(
    inject('databaseUrl') || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test',
    'tracewell_txm',
  );
  const migrating = await openDatabase({ url: scratch.url });
  await migrating.migrate();
  await migrating.close();
  chain = await connectChain(inject('rpcUrl'));
  const wallet = createWalletClient({ account: admin, chain: chain.client.chain, transport: http(chain.rpcUrl) });
  const hash = await wallet.deployContract({ abi: partRegistryAbi, bytecode: partRegistryBytecode, args: [admin.address] });
  registry = new PartRegistry(chain.client, (await chain.client.waitForTransactionReceipt({ hash })).contractAddress!);
  for (const account of [signer, other]) {
    const grant = await wallet.sendTransaction({ to: registry.address, data: registry.grantRoleCall(REGISTRAR_ROLE, account.address) });
    await chain.client.waitForTransactionReceipt({ hash: grant });
  }
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await rpc('evm_setAutomine', [true]).catch(() => {});
  await Promise.all(managers.map((m) => m.close()));
  await Promise.all(databases.map((d) => d.close()));
  await scratch?.drop();
});

describe('a batch', () => {
  it('carries many intents in one transaction; a bad item fails alone, with its contract error', async () => {
    const db = await database();
    // Room for exactly the 11 writes below, and time for all of them to be queued on a busy machine.
    const tm = await manager(db, { batchWaitMs: 3000, batchMaxItems: 11 });
    const good = Array.from({ length: 8 }, () => uniqueId('urn:test:txm'));
    const twin = uniqueId('urn:test:txm');
    const stranger = await (async () => {
      const id = uniqueId('urn:test:txm');
      await tm.send(mintWrite(id, other));
      return tokenIdOf(id);
    })();
    // A leader sends an isolated write at once; writes that follow within batchWaitMs wait for company.
    await tm.send(mintWrite(uniqueId('urn:test:txm')));
    const sends = [
      ...good.map((id) => tm.send(mintWrite(id))),
      // Would revert alone (the signer does not hold the source): found by simulation, never sent.
      tm.send(mintWrite(uniqueId('urn:test:txm'), signer, [stranger])),
      // Both pass alone; in one batch whichever comes second finds the part registered: BatchItemFailed.
      // (Their effect checks say not done: a part the other twin minted is not this write's effect.)
      tm.send({ ...mintWrite(twin), isDone: async () => false }),
      tm.send({ ...mintWrite(twin), key: `mint-again:${twin}`, isDone: async () => false }),
    ];
    const results = await Promise.allSettled(sends);
    const done = results.slice(0, 8).map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    expect(done.every((r) => r?.txHash)).toBe(true);
    const [notHolder, ...twins] = results.slice(8);
    expect(notHolder).toMatchObject({ status: 'rejected', reason: { name: 'ContractRevertError', errorName: 'NotHolder' } });
    expect(twins.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(twins.find((r) => r.status === 'rejected')).toMatchObject({
      reason: { name: 'ContractRevertError', errorName: 'PartAlreadyRegistered' },
    });
    const twinKeys = [`mint:${twin}`, `mint-again:${twin}`];

    // The good items and both twins rode in one batch transaction, under a batch key.
    const txHashes = new Set(done.map((r) => r!.txHash));
    expect(txHashes.size).toBe(1);
    const [row] = await db.db
      .select()
      .from(chainTxs)
      .where(eq(chainTxs.txHash, [...txHashes][0]!));
    expect(row!.key).toMatch(new RegExp(`^batch:${chain.chainId}:${signer.address}:\\d+:1$`));
    expect(row!.items).toBe(10);
    const intents = await db.db
      .select()
      .from(chainIntents)
      .where(inArray(chainIntents.key, [...twinKeys, ...good.map((id) => `mint:${id}`)]));
    expect(intents.filter((i) => i.status === 'done')).toHaveLength(9);
    expect(intents.find((i) => i.status === 'failed')).toMatchObject({
      key: twinKeys[twins.findIndex((r) => r.status === 'rejected')],
      status: 'failed',
      txKey: row!.key,
      error: { name: 'PartAlreadyRegistered' },
    });
    for (const id of [...good, twin]) expect(await registeredEvents(id)).toHaveLength(1);
  });

  it('sends a lone write as a plain call under its own key, and a repeat of it sends nothing', async () => {
    // Earlier managers may still lead the signer (a leader lingers a moment when idle): stop them.
    await Promise.all(managers.map((m) => m.close()));
    const db = await database();
    // The heal hook runs on the leader's every tick, for the signer it leads.
    const ticks: SignerTick[] = [];
    const tm = await manager(db, {}, async (tick) => void ticks.push(tick));
    const id = uniqueId('urn:test:txm');
    const first = await tm.send(mintWrite(id));
    const again = await tm.send(mintWrite(id));
    expect(again).toMatchObject({ txHash: first.txHash, alreadyDone: false });
    const [row] = await db.db
      .select()
      .from(chainTxs)
      .where(eq(chainTxs.key, `mint:${id}`));
    expect(row).toMatchObject({ txHash: first.txHash, items: 1, status: 'mined' });
    const tx = await chain.client.getTransaction({ hash: first.txHash! });
    expect(tx.input.slice(0, 10)).toBe(registry.registerCall(id, zeroHash, []).slice(0, 10));
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks.every((tick) => tick.signer === signer.address && tick.settings.stuckAfterMs === 60_000)).toBe(true);
  });
});

describe('a key recorded on another chain', () => {
  it("is refused, not settled by that chain's outcome", async () => {
    await Promise.all(managers.map((m) => m.close()));
    const db = await database();
    const tm = await manager(db);
    const id = uniqueId('urn:test:txm-other-chain');
    const write = mintWrite(id);
    // One database, two chains (a test net beside a dev chain): the same key done on the other one.
    await db.db.insert(chainIntents).values({
      key: write.key,
      chainId: chain.chainId + 1,
      signer: signer.address,
      toAddress: registry.address,
      data: write.data,
      status: 'done',
    });
    await expect(tm.send(write)).rejects.toThrow(`was recorded on chain ${chain.chainId + 1}, not on this chain (${chain.chainId})`);
    expect(await registry.exists(tokenIdOf(id))).toBe(false);
  });
});

describe('two managers with their own pools (two workers) for one signer', () => {
  it('send everything once: consecutive nonces, no duplicate transaction, one token per part', async () => {
    const [dbA, dbB] = [await database(), await database()];
    const [a, b] = [await manager(dbA), await manager(dbB)];
    const since = await chain.client.getTransactionCount({ address: signer.address, blockTag: 'pending' });
    const ids = Array.from({ length: 60 }, () => uniqueId('urn:test:txm'));
    // Each part is submitted by both workers (a retried activity landing on the other one).
    const results = await Promise.all(ids.flatMap((id, i) => [a.send(mintWrite(id)), ...(i % 3 === 0 ? [b.send(mintWrite(id))] : [])]));
    const more = await Promise.all(ids.slice(0, 30).map((id) => b.send(mintWrite(id))));
    expect(results.every((r) => r.txHash || r.alreadyDone)).toBe(true);
    expect(more.every((r) => r.txHash)).toBe(true);
    for (const id of ids) expect(await registeredEvents(id)).toHaveLength(1);
    const live = await expectOneTxPerNonce(dbA, signer.address, since);
    expect(live.length).toBeLessThan(ids.length);
  });
});

describe('the leader killed mid-batch', () => {
  it('is taken over: its stored transaction is waited for, nothing is sent twice, nothing is lost', async () => {
    const db = await database();
    const prefix = uniqueId('urn:test:txm-kill');
    const ids = Array.from({ length: 20 }, (_, i) => `${prefix}:${i}`);
    const since = await chain.client.getTransactionCount({ address: signer.address, blockTag: 'pending' });
    // Mining paused: the child's batch is signed, stored and broadcast, and stays pending.
    await rpc('evm_setAutomine', [false]);
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'support', 'tx-leader-child.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        TM_DATABASE_URL: scratch.url,
        TM_RPC_URL: chain.rpcUrl,
        TM_REGISTRY: registry.address,
        TM_SIGNER_INDEX: String(SIGNER_INDEX),
        TM_PREFIX: prefix,
        TM_COUNT: String(ids.length),
      },
      stdio: 'ignore',
    });
    children.push(child);
    const keys = ids.map((id) => `mint:${id}`);
    const sentIntents = async () =>
      db.db
        .select()
        .from(chainIntents)
        .where(and(inArray(chainIntents.key, keys), eq(chainIntents.status, 'sent')));
    await until('the child leader to store its transactions', async () => (await sentIntents()).length === ids.length, 30_000);
    const stored = (
      await db.db
        .select()
        .from(chainTxs)
        .where(and(eq(chainTxs.fromAddress, signer.address), gte(chainTxs.nonce, since)))
    ).filter((row) => row.status !== 'replaced');
    expect(stored.reduce((n, row) => n + row.items, 0)).toBe(ids.length);
    expect(stored.some((row) => row.key.startsWith(`batch:${chain.chainId}:${signer.address}:`))).toBe(true);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));

    // The survivor: the same writes (as retried activities), and new ones.
    const tm = await manager(db);
    const fresh = Array.from({ length: 5 }, () => uniqueId('urn:test:txm'));
    const retried = Promise.all([...ids, ...fresh].map((id) => tm.send(mintWrite(id))));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await rpc('evm_setAutomine', [true]);
    await rpc('evm_mine');
    const results = await retried;

    // The killed leader's transactions carried its intents; the survivor sent only the new ones.
    const storedHashes = new Set(stored.map((row) => row.txHash));
    expect(new Set(results.slice(0, ids.length).map((r) => r.txHash))).toEqual(storedHashes);
    expect(results.slice(ids.length).every((r) => r.txHash && !storedHashes.has(r.txHash))).toBe(true);
    for (const id of [...ids, ...fresh]) expect(await registeredEvents(id)).toHaveLength(1);
    await expectOneTxPerNonce(db, signer.address, since);
  });
});
