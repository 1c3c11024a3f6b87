// Writes a node lost behind our back, on a chain of this file's own: anvil's snapshot and revert
// stand for a node restarted from a state saved before its last blocks (what a SIGKILL between two
// state saves does). The recovery broadcasts the recorded transactions again, in their order, with
// their hashes; the listener takes the chain that went back below its cursor as a reorganisation
// and mirrors the replayed blocks; a write whose nonce another transaction took is `lost` and its
// intents queued again.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { createWalletClient, getAddress, http, zeroHash } from 'viem';
import type { Address, Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { partRegistryAbi, partRegistryBytecode } from '../../contracts/generated/PartRegistry.js';
import { openDatabase } from '../../db/client.js';
import type { Database } from '../../db/client.js';
import { chainIntents, chainTxs, ledgerEvents, ledgerReorgs } from '../../db/schema.js';
import { freePort } from '../../app/devstack/process.js';
import type { RunningService } from '../../app/devstack/process.js';
import { DEV_MNEMONIC, startAnvil } from '../../app/devstack/services.js';
import { connectChain } from '../../domain/chain/connection.js';
import type { ChainConnection } from '../../domain/chain/connection.js';
import { recoverLostTransactions } from '../../domain/chain/lost-transactions.js';
import { PartRegistry, REGISTRAR_ROLE, tokenIdOf } from '../../domain/chain/part-registry.js';
import { DEFAULT_LEDGER_SETTINGS, TransactionManager } from '../../domain/chain/transaction-manager.js';
import { LedgerListener } from '../../domain/mirror/listener.js';
import { verifyMirror } from '../../domain/mirror/verify.js';
import { uniqueId } from '../support/env.js';

const CHAIN_ID = 43_000 + Math.floor(Math.random() * 1000);
const admin = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 });
const alice = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 1 });
const bob = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 2 });

let anvil: RunningService;
let chain: ChainConnection;
let database: Database;
let registry: PartRegistry;
let deployBlock: bigint;
let sender: TransactionManager;

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

/** A write through the idempotent sender, recorded in chain_txs under `key`. */
async function write(key: string, account: typeof alice, data: Hex) {
  return sender.send({ key, account, to: registry.address, data, abi: partRegistryAbi, isDone: async () => false });
}

const listener = (behindGraceMs: number) => new LedgerListener(database.db, registry, CHAIN_ID, { startBlock: deployBlock, behindGraceMs });
const row = async (key: string) => (await database.db.select().from(chainTxs).where(eq(chainTxs.key, key)))[0]!;
const mirroredOf = async (partId: string) =>
  (await database.db.select().from(ledgerEvents).where(eq(ledgerEvents.chainId, CHAIN_ID))).filter((event) =>
    event.partIds.includes(partId),
  );

beforeAll(async () => {
  const port = await freePort();
  anvil = await startAnvil({ port, chainId: CHAIN_ID });
  chain = await connectChain(`http://127.0.0.1:${port}`);
  database = await openDatabase({ url: inject('databaseUrl') || undefined });
  await database.migrate();
  const wallet = createWalletClient({ account: admin, chain: chain.client.chain, transport: http(chain.rpcUrl) });
  const hash = await wallet.deployContract({ abi: partRegistryAbi, bytecode: partRegistryBytecode, args: [admin.address] });
  const receipt = await chain.client.waitForTransactionReceipt({ hash });
  deployBlock = receipt.blockNumber;
  registry = new PartRegistry(chain.client, getAddress(receipt.contractAddress!));
  // Lone writes, no batch wait; no healing hook, so each test sees only what recovery itself does.
  sender = new TransactionManager({
    db: database.db,
    locks: database,
    chain,
    settings: { ...DEFAULT_LEDGER_SETTINGS, batchWaitMs: 0 },
    hook: async () => {},
  });
  await write(uniqueId('grant'), admin, registry.grantRoleCall(REGISTRAR_ROLE, alice.address));
});

afterAll(async () => {
  await sender?.close();
  await database?.close();
  await anvil?.stop();
});

describe('lost writes', () => {
  it('are broadcast again in their order with their hashes, and the mirror rolls back and reads them again', async () => {
    const mirror = listener(0);
    await mirror.catchUp();
    const saved = await rpc<string>('evm_snapshot');
    const partId = uniqueId();
    const keys = [uniqueId('mint'), uniqueId('transfer')];
    const minted = await write(keys[0]!, alice, registry.registerCall(partId, zeroHash, []));
    const moved = await write(keys[1]!, alice, registry.transferCall(alice.address, bob.address, tokenIdOf(partId)));
    await rpc('anvil_mine', ['0x2']);
    await mirror.catchUp();
    expect(await mirroredOf(partId)).toHaveLength(3);

    // The node comes back from the state saved before these blocks.
    expect(await rpc<boolean>('evm_revert', [saved])).toBe(true);
    expect(await registry.ownerOf(tokenIdOf(partId))).toBeNull();
    // A listener that allows for a lagging backend waits; one past its grace rolls back.
    expect((await listener(60_000).syncOnce()).reorg).toBeUndefined();
    const rolled = await mirror.syncOnce();
    expect(rolled.reorg?.removed).toBeGreaterThanOrEqual(3);
    expect(await mirroredOf(partId)).toHaveLength(0);

    const report = await recoverLostTransactions(database.db, chain);
    expect(report.rebroadcast.map((entry) => [entry.key, entry.txHash])).toEqual([
      [keys[0], minted.txHash],
      [keys[1], moved.txHash],
    ]);
    expect(report.lost).toEqual([]);
    expect(await registry.ownerOf(tokenIdOf(partId))).toBe(bob.address);
    for (const key of keys) {
      const stored = await row(key);
      const receipt = await chain.client.getTransactionReceipt({ hash: stored.txHash as Hex });
      expect(stored).toMatchObject({ status: 'mined', blockHash: receipt.blockHash, blockNumber: receipt.blockNumber.toString() });
    }
    await mirror.catchUp();
    expect((await mirroredOf(partId)).map((event) => event.txHash)).toEqual([minted.txHash, minted.txHash, moved.txHash]);
    const report2 = await verifyMirror(database.db, chain.client, { chainId: CHAIN_ID, address: registry.address });
    expect(report2.drift).toEqual([]);
    const reorgs = await database.db
      .select()
      .from(ledgerReorgs)
      .where(and(eq(ledgerReorgs.chainId, CHAIN_ID)));
    expect(reorgs.length).toBeGreaterThanOrEqual(1);
    // A second run finds everything in place.
    expect(await recoverLostTransactions(database.db, chain)).toMatchObject({ rebroadcast: [], lost: [], moved: [] });
  });

  it('marks a write lost and queues its intents again when another transaction took its nonce', async () => {
    const saved = await rpc<string>('evm_snapshot');
    const key = uniqueId('mint');
    const partId = uniqueId();
    await write(key, alice, registry.registerCall(partId, zeroHash, []));
    const intentKey = `${key}:intent`;
    await database.db.insert(chainIntents).values({
      key: intentKey,
      chainId: CHAIN_ID,
      signer: alice.address,
      toAddress: registry.address,
      data: registry.registerCall(partId, zeroHash, []),
      partId,
      stepId: 'mint',
      status: 'sent',
      txKey: key,
      itemIndex: 0,
    });
    expect(await rpc<boolean>('evm_revert', [saved])).toBe(true);
    // Another process with alice's key uses the nonce before the recovery runs.
    const other = uniqueId();
    const wallet = createWalletClient({ account: alice, chain: chain.client.chain, transport: http(chain.rpcUrl) });
    await chain.client.waitForTransactionReceipt({
      hash: await wallet.sendTransaction({ to: registry.address, data: registry.registerCall(other, zeroHash, []) }),
    });

    const report = await recoverLostTransactions(database.db, chain);
    expect(report.lost.map((entry) => entry.key)).toEqual([key]);
    expect(report.requeuedIntents).toEqual([intentKey]);
    expect(await row(key)).toMatchObject({ status: 'lost', blockNumber: null, blockHash: null });
    const [intent] = await database.db.select().from(chainIntents).where(eq(chainIntents.key, intentKey));
    expect(intent).toMatchObject({ status: 'queued', txKey: null });
    expect(await registry.ownerOf(tokenIdOf(partId))).toBeNull();
    expect(await registry.ownerOf(tokenIdOf(other))).toBe(alice.address as Address);
  });

  it('verify names each step whose recorded transaction is not on chain, until the recovery brings it back', async () => {
    const saved = await rpc<string>('evm_snapshot');
    const partId = uniqueId();
    const sent = await sender.send({
      key: uniqueId('mint'),
      origin: { partId, stepId: 'mint' },
      account: alice,
      to: registry.address,
      data: registry.registerCall(partId, zeroHash, []),
      isDone: async () => false,
    });
    const ledger = { chainId: CHAIN_ID, address: registry.address };
    const missing = async () =>
      (await verifyMirror(database.db, chain.client, ledger)).drift.filter(
        (item) => item.kind === 'step_tx_missing' && item.partId === partId,
      );
    expect(await missing()).toEqual([]);
    expect(await rpc<boolean>('evm_revert', [saved])).toBe(true);
    const found = await missing();
    expect(found).toEqual([expect.objectContaining({ partId, stepId: 'mint', txHash: sent.txHash, logIndex: -1 })]);
    expect(found[0]!.message).toContain(`step mint of part ${partId}: transaction ${sent.txHash} is not on chain`);
    await recoverLostTransactions(database.db, chain);
    expect(await missing()).toEqual([]);
  });
});
