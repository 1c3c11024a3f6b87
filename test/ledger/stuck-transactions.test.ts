// Stuck, dropped and gapped transactions healed on a chain of this file's own (an anvil with
// automine off, so a transaction stays pending until the test mines a block): a stuck one is re-sent
// with higher fees and mined once, a dropped one broadcast again, a nonce gap filled, the attempt
// that was mined wins, and a nonce someone else took sends its intents back to the queue.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { keccak256, parseTransaction } from 'viem';
import type { Address, Hex } from 'viem';
import { generatePrivateKey, mnemonicToAccount, privateKeyToAddress } from 'viem/accounts';
import { openDatabase } from '../../db/client.js';
import type { Database } from '../../db/client.js';
import { chainIntents, chainTxs } from '../../db/schema.js';
import { freePort } from '../../app/devstack/process.js';
import type { RunningService } from '../../app/devstack/process.js';
import { DEV_MNEMONIC, startAnvil } from '../../app/devstack/services.js';
import { connectChain } from '../../domain/chain/connection.js';
import type { ChainConnection } from '../../domain/chain/connection.js';
import { healSigner } from '../../domain/chain/stuck-transactions.js';
import { uniqueId } from '../support/env.js';

const CHAIN_ID = 41_000 + Math.floor(Math.random() * 1000);
const signer = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 7 });
const MINUTE = 60_000;
let anvil: RunningService;
let chain: ChainConnection;
let database: Database;

async function rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(chain.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await response.json()) as { result: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

const mine = () => rpc('anvil_mine', ['0x1']);
const balance = (address: Address) => chain.client.getBalance({ address });
const nextNonce = () => chain.client.getTransactionCount({ address: signer.address, blockTag: 'latest' });

interface Stored {
  key: string;
  intent: string;
  rawTx: Hex;
  hash: Hex;
  to: Address;
}

/**
 * Signs a payment of `value` wei to a fresh address at `nonce`, stores it as the transaction manager
 * would (a chain_txs row, and an intent it carries), and broadcasts it unless told not to.
 */
async function store(nonce: number, { value = 1000n, broadcast = true } = {}): Promise<Stored> {
  const to = privateKeyToAddress(generatePrivateKey());
  const block = await chain.client.getBlock();
  const maxPriorityFeePerGas = 1_000_000_000n;
  const maxFeePerGas = 2n * block.baseFeePerGas! + maxPriorityFeePerGas;
  const rawTx = await signer.signTransaction({
    chainId: CHAIN_ID,
    type: 'eip1559',
    nonce,
    to,
    value,
    gas: 21_000n,
    maxFeePerGas,
    maxPriorityFeePerGas,
  });
  const key = uniqueId('pay');
  const intent = `${key}:intent`;
  const hash = keccak256(rawTx);
  await database.db.insert(chainTxs).values({
    key,
    chainId: CHAIN_ID,
    fromAddress: signer.address,
    nonce,
    txHash: hash,
    rawTx,
    status: broadcast ? 'sent' : 'signed',
    maxFeePerGas: maxFeePerGas.toString(),
    maxPriorityFeePerGas: maxPriorityFeePerGas.toString(),
    sentAt: broadcast ? new Date() : null,
  });
  await database.db.insert(chainIntents).values({
    key: intent,
    chainId: CHAIN_ID,
    signer: signer.address,
    toAddress: to,
    data: '0x',
    status: 'sent',
    txKey: key,
    itemIndex: 0,
  });
  if (broadcast) await chain.client.sendRawTransaction({ serializedTransaction: rawTx });
  return { key, intent, rawTx, hash, to };
}

const row = async (key: string) => (await database.db.select().from(chainTxs).where(eq(chainTxs.key, key)))[0]!;
const intent = async (key: string) => (await database.db.select().from(chainIntents).where(eq(chainIntents.key, key)))[0]!;
const heal = (options: { later?: number } = {}) =>
  healSigner({
    db: database.db,
    chain,
    account: signer,
    stuckAfterMs: MINUTE,
    now: new Date(Date.now() + (options.later ?? 0)),
  });
const pooled = async (hash: Hex) =>
  chain.client.getTransaction({ hash }).then(
    () => true,
    () => false,
  );

beforeAll(async () => {
  const port = await freePort();
  anvil = await startAnvil({ port, chainId: CHAIN_ID });
  chain = await connectChain(`http://127.0.0.1:${port}`);
  database = await openDatabase({ url: inject('databaseUrl') || undefined });
  await database.migrate();
  await rpc('evm_setAutomine', [false]);
});

afterAll(async () => {
  await database?.close();
  await anvil?.stop();
});

describe('healSigner', () => {
  it('re-sends a transaction unmined past the threshold with both fees bumped, and it is mined once', async () => {
    const tx = await store(await nextNonce());
    expect(await heal()).toMatchObject({ bumped: [], rebroadcast: [] }); // not stuck yet

    const report = await heal({ later: 2 * MINUTE });
    expect(report.bumped).toEqual([expect.objectContaining({ from: tx.key, to: `${tx.key}#2`, attempts: 2 })]);
    const old = parseTransaction(tx.rawTx);
    const bumped = await row(`${tx.key}#2`);
    const again = parseTransaction(bumped.rawTx as Hex);
    expect(again.nonce).toBe(old.nonce);
    expect(again.maxFeePerGas! * 100n).toBeGreaterThanOrEqual(old.maxFeePerGas! * 110n);
    expect(again.maxPriorityFeePerGas! * 100n).toBeGreaterThanOrEqual(old.maxPriorityFeePerGas! * 110n);
    expect(bumped).toMatchObject({ status: 'sent', attempts: 2, nonce: old.nonce, maxFeePerGas: again.maxFeePerGas!.toString() });
    expect(await row(tx.key)).toMatchObject({ status: 'replaced', replacedBy: `${tx.key}#2` });
    expect((await intent(tx.intent)).txKey).toBe(`${tx.key}#2`);
    // The node took the dearer one in place of the first.
    expect(await pooled(bumped.txHash as Hex)).toBe(true);

    await mine();
    expect(await balance(tx.to)).toBe(1000n); // one payment, not two
    const settled = await heal();
    expect(settled.mined).toEqual([expect.objectContaining({ key: `${tx.key}#2`, status: 'mined' })]);
    const receipt = await chain.client.getTransactionReceipt({ hash: bumped.txHash as Hex });
    expect(await row(`${tx.key}#2`)).toMatchObject({
      status: 'mined',
      blockHash: receipt.blockHash,
      blockNumber: receipt.blockNumber.toString(),
    });
    expect(await row(tx.key)).toMatchObject({ status: 'replaced', replacedBy: `${tx.key}#2` });
    expect(await nextNonce()).toBe(old.nonce! + 1);
  });

  it('marks the first attempt the winner when it, not the bump, was mined', async () => {
    const tx = await store(await nextNonce());
    const { bumped } = await heal({ later: 2 * MINUTE });
    const bump = await row(bumped[0]!.to);
    // The bump vanishes from the pool and the first bytes come back (another node's pool had them).
    await rpc('anvil_dropTransaction', [bump.txHash]);
    await chain.client.sendRawTransaction({ serializedTransaction: tx.rawTx });
    await mine();
    const report = await heal();
    expect(report.mined).toEqual([expect.objectContaining({ key: tx.key, status: 'mined' })]);
    expect(await row(tx.key)).toMatchObject({ status: 'mined', replacedBy: null });
    expect(await row(bump.key)).toMatchObject({ status: 'replaced', replacedBy: tx.key });
    expect((await intent(tx.intent)).txKey).toBe(tx.key);
    expect(await balance(tx.to)).toBe(1000n);
  });

  it('broadcasts a dropped transaction again, the same bytes', async () => {
    const tx = await store(await nextNonce());
    await rpc('anvil_dropTransaction', [tx.hash]);
    expect(await pooled(tx.hash)).toBe(false);
    const report = await heal();
    expect(report.rebroadcast).toEqual([{ key: tx.key, nonce: parseTransaction(tx.rawTx).nonce, reason: 'dropped' }]);
    expect(report.bumped).toEqual([]);
    expect(await pooled(tx.hash)).toBe(true);
    await mine();
    await heal();
    expect(await row(tx.key)).toMatchObject({ status: 'mined' });
    expect(await balance(tx.to)).toBe(1000n);
  });

  it('fills a nonce gap with the stored transaction at that nonce, so the later one is mined', async () => {
    const nonce = await nextNonce();
    const first = await store(nonce);
    const second = await store(nonce + 1);
    await rpc('anvil_dropTransaction', [first.hash]);
    await mine();
    expect(await nextNonce()).toBe(nonce); // the later one waits behind the gap
    const report = await heal();
    expect(report.rebroadcast).toContainEqual({ key: first.key, nonce, reason: 'gap' });
    await mine();
    expect(await nextNonce()).toBe(nonce + 2);
    const settled = await heal();
    expect(settled.mined.map((m) => m.key).sort()).toEqual([first.key, second.key].sort());
    expect([await balance(first.to), await balance(second.to)]).toEqual([1000n, 1000n]);
  });

  it('fills a gap nothing of ours holds with a no-op, once the later transaction has waited past the threshold', async () => {
    const nonce = await nextNonce();
    const later = await store(nonce + 1); // nonce itself was never signed by us
    expect((await heal()).fillers).toEqual([]); // may still arrive: not yet
    const report = await heal({ later: 2 * MINUTE });
    expect(report.fillers).toEqual([expect.objectContaining({ nonce })]);
    await mine();
    const settled = await heal();
    expect(settled.mined.map((m) => m.nonce)).toContain(nonce + 1);
    expect(await nextNonce()).toBe(nonce + 2);
    expect(await balance(later.to)).toBe(1000n);
    expect(await row(report.fillers[0]!.key)).toMatchObject({ nonce, items: 0 });
  });

  it('queues the intents again when another transaction took the nonce', async () => {
    const nonce = await nextNonce();
    const ours = await store(nonce, { broadcast: false });
    // Another tool with the same key uses the nonce first.
    const block = await chain.client.getBlock();
    const foreign = await signer.signTransaction({
      chainId: CHAIN_ID,
      type: 'eip1559',
      nonce,
      to: signer.address,
      value: 0n,
      gas: 21_000n,
      maxFeePerGas: 2n * block.baseFeePerGas! + 1n,
      maxPriorityFeePerGas: 1n,
    });
    await chain.client.sendRawTransaction({ serializedTransaction: foreign });
    await mine();
    const report = await heal();
    expect(report.superseded).toEqual([{ key: ours.key, nonce }]);
    expect(report.requeuedIntents).toEqual([ours.intent]);
    expect(await row(ours.key)).toMatchObject({ status: 'replaced' });
    expect(await intent(ours.intent)).toMatchObject({ status: 'queued', txKey: null, attempts: 2 });
    expect(await balance(ours.to)).toBe(0n);
  });
});
