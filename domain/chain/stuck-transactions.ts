// Keeps one signer's transactions moving (its leader calls `healSigner` once per tick). Works only
// on the stored rows (chain_txs) and what the node says about them:
// - a nonce the chain has used: whichever of our attempts at it was mined wins (its status and
//   block are recorded, the other attempts become `replaced`); when none of ours was, another
//   transaction took it, and the intents it carried are queued again;
// - a stored transaction the node does not hold (dropped from its pool, or never broadcast): the
//   very same bytes are broadcast again;
// - a nonce gap (the node's next nonce has no transaction in its pool while later ones of ours
//   wait): our stored transaction at that nonce is broadcast again, else, once the wait is past the
//   threshold, a no-op (0 wei to itself) fills it so the later ones can be mined;
// - a transaction unmined past the threshold: re-signed at the same nonce with both EIP-1559 fees
//   bumped (nodes replace a pooled transaction only for at least +10% on both) as a new row
//   `<key>#<attempt>`, stored before it is broadcast; the old row is `replaced` by it and the
//   intents it carried point at the new one.
import { and, eq, inArray, sql } from 'drizzle-orm';
import { keccak256, parseTransaction } from 'viem';
import type { Address, Hex, LocalAccount, TransactionSerializable } from 'viem';
import type { Db } from '../../db/client.js';
import { chainIntents, chainTxs } from '../../db/schema.js';
import type { ChainTxStatus } from '../../db/schema.js';
import type { ChainConnection } from './connection.js';
import { broadcastRaw, nodeHas, receiptOrNull } from './node-lookups.js';
import type { SignerHook } from './signer-leader.js';

type TxRow = typeof chainTxs.$inferSelect;

export interface HealContext {
  db: Db;
  chain: ChainConnection;
  /** The signer: only its own transactions are looked at, and it signs the fee bumps. */
  account: LocalAccount;
  /** A transaction broadcast longer ago than this and still unmined is re-sent with higher fees. */
  stuckAfterMs: number;
  now?: Date;
  /** Fee bump in percent of the previous attempt's fees (default 25; nodes require at least 10). */
  bumpPercent?: number;
}

export interface HealReport {
  signer: Address;
  /** The node's next nonce on its latest block. */
  latestNonce: number;
  /** Nonces the chain used: our attempt that was mined there. */
  mined: { key: string; nonce: number; txHash: string; status: 'mined' | 'reverted'; blockNumber: string }[];
  /** Our attempts at a nonce another transaction took; their intents are queued again. */
  superseded: { key: string; nonce: number }[];
  /** Stored bytes broadcast again: the node did not hold them (`dropped`), or a nonce gap. */
  rebroadcast: { key: string; nonce: number; reason: 'dropped' | 'gap' }[];
  /** Stuck transactions re-signed with higher fees. */
  bumped: { from: string; to: string; nonce: number; attempts: number; txHash: string }[];
  /** Nonce gaps nothing of ours could fill: a no-op sent there. */
  fillers: { key: string; nonce: number; txHash: string }[];
  /** Intents queued again because their transaction can never be mined. */
  requeuedIntents: string[];
}

const OPEN: ChainTxStatus[] = ['signed', 'sent'];
const DEFAULT_BUMP_PERCENT = 25n;

/** One pass over `account`'s unmined transactions; see the module comment. */
export async function healSigner(ctx: HealContext): Promise<HealReport> {
  const { db, chain, account } = ctx;
  const signer = account.address;
  const latest = await chain.client.getTransactionCount({ address: signer, blockTag: 'latest' });
  const report: HealReport = {
    signer,
    latestNonce: latest,
    mined: [],
    superseded: [],
    rebroadcast: [],
    bumped: [],
    fillers: [],
    requeuedIntents: [],
  };
  const ofSigner = and(eq(chainTxs.chainId, chain.chainId), eq(chainTxs.fromAddress, signer));
  const open = await db
    .select()
    .from(chainTxs)
    .where(and(ofSigner, inArray(chainTxs.status, OPEN)));
  if (open.length === 0) return report;
  const nonces = [...new Set(open.map((row) => row.nonce))].sort((a, b) => a - b);
  // Every attempt at those nonces: an earlier one that was replaced may still be the one mined.
  const attempts = await db
    .select()
    .from(chainTxs)
    .where(and(ofSigner, inArray(chainTxs.nonce, nonces)));
  const at = (nonce: number) => attempts.filter((row) => row.nonce === nonce);

  for (const nonce of nonces.filter((n) => n < latest)) await settleUsedNonce(ctx, at(nonce), report);

  const waiting = nonces.filter((n) => n >= latest);
  if (waiting.length === 0) return report;
  await fillGap(ctx, latest, waiting[0]!, open, report);
  for (const nonce of waiting) {
    const current = currentAttempt(at(nonce).filter((row) => OPEN.includes(row.status)));
    await keepMoving(ctx, current, nonce === latest && waiting.length > 1 ? 'gap' : 'dropped', report);
  }
  return report;
}

/** The newest open attempt at a nonce (most attempts; the newest row on a tie). */
function currentAttempt(rows: TxRow[]): TxRow {
  return rows.reduce((best, row) =>
    row.attempts > best.attempts || (row.attempts === best.attempts && row.createdAt > best.createdAt) ? row : best,
  );
}

/** The nonce is used on chain: record which attempt of ours was mined, or that none was. */
async function settleUsedNonce(ctx: HealContext, rows: TxRow[], report: HealReport): Promise<void> {
  const { db, chain } = ctx;
  for (const row of rows) {
    if (row.status === 'lost') continue;
    const receipt = await receiptOrNull(chain.client, row.txHash as Hex);
    if (!receipt) continue;
    const status = receipt.status === 'success' ? 'mined' : 'reverted';
    const losers = rows.filter((other) => other.key !== row.key && other.status !== 'lost').map((other) => other.key);
    await db.transaction(async (tx) => {
      const now = new Date();
      await tx
        .update(chainTxs)
        .set({ status, blockNumber: receipt.blockNumber.toString(), blockHash: receipt.blockHash, replacedBy: null, updatedAt: now })
        .where(eq(chainTxs.key, row.key));
      if (losers.length === 0) return;
      await tx.update(chainTxs).set({ status: 'replaced', replacedBy: row.key, updatedAt: now }).where(inArray(chainTxs.key, losers));
      await tx.update(chainIntents).set({ txKey: row.key, updatedAt: now }).where(inArray(chainIntents.txKey, losers));
    });
    report.mined.push({ key: row.key, nonce: row.nonce, txHash: row.txHash, status, blockNumber: receipt.blockNumber.toString() });
    return;
  }
  // None of ours was mined there: the nonce went to another transaction (another tool with this key).
  const keys = rows.filter((row) => OPEN.includes(row.status) || row.status === 'replaced').map((row) => row.key);
  const requeued = await db.transaction(async (tx) => {
    const now = new Date();
    await tx
      .update(chainTxs)
      .set({ status: 'replaced', updatedAt: now })
      .where(and(inArray(chainTxs.key, keys), inArray(chainTxs.status, OPEN)));
    return requeueIntents(tx, keys, now);
  });
  for (const row of rows.filter((r) => OPEN.includes(r.status))) report.superseded.push({ key: row.key, nonce: row.nonce });
  report.requeuedIntents.push(...requeued);
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Intents carried by transactions that can never be mined go back to their leader's queue. */
export async function requeueIntents(tx: Db | Tx, txKeys: string[], now = new Date()): Promise<string[]> {
  if (txKeys.length === 0) return [];
  const rows = await tx
    .update(chainIntents)
    .set({ status: 'queued', txKey: null, itemIndex: null, attempts: sql`${chainIntents.attempts} + 1`, updatedAt: now })
    .where(and(inArray(chainIntents.txKey, txKeys), eq(chainIntents.status, 'sent')))
    .returning({ key: chainIntents.key });
  return rows.map((row) => row.key);
}

/**
 * Nonces from the node's next one up to our lowest waiting one that the node's pool lacks: our
 * stored transaction there is broadcast again; with none, once the later ones have waited past the
 * threshold, a no-op fills the nonce.
 */
async function fillGap(ctx: HealContext, latest: number, lowestWaiting: number, open: TxRow[], report: HealReport): Promise<void> {
  if (lowestWaiting <= latest) return;
  const { db, chain, account } = ctx;
  const pending = await chain.client.getTransactionCount({ address: account.address, blockTag: 'pending' });
  const waitedMs = Math.max(...open.filter((row) => row.nonce === lowestWaiting).map((row) => ageMs(ctx, row)));
  for (let nonce = Math.max(latest, pending); nonce < lowestWaiting; nonce++) {
    const stored = await db
      .select()
      .from(chainTxs)
      .where(and(eq(chainTxs.chainId, chain.chainId), eq(chainTxs.fromAddress, account.address), eq(chainTxs.nonce, nonce)));
    const ours = stored.filter((row) => row.status !== 'replaced' || row.replacedBy === null);
    if (ours.length > 0) {
      const row = currentAttempt(ours);
      const outcome = await broadcastRaw(chain.client, row.rawTx as Hex, row.txHash as Hex).catch(() => undefined);
      if (outcome === 'accepted') {
        await markSent(db, row.key, row.status === 'lost' ? 'sent' : undefined);
        report.rebroadcast.push({ key: row.key, nonce, reason: 'gap' });
        continue;
      }
    }
    if (waitedMs < ctx.stuckAfterMs) return;
    report.fillers.push(await sendFiller(ctx, nonce));
  }
}

/** A 0-wei transfer to itself at `nonce`, stored under a key of its own before it is broadcast. */
async function sendFiller(ctx: HealContext, nonce: number): Promise<HealReport['fillers'][number]> {
  const { db, chain, account } = ctx;
  const key = `nonce-gap:${chain.chainId}:${account.address}:${nonce}`;
  const fees = await currentFees(ctx, undefined);
  const request: TransactionSerializable = {
    chainId: chain.chainId,
    type: 'eip1559',
    nonce,
    to: account.address,
    value: 0n,
    gas: 21_000n,
    ...fees,
  };
  const row = await storeAttempt(db, ctx, request, { key, nonce, attempts: 1 });
  await broadcastRaw(chain.client, row.rawTx as Hex, row.txHash as Hex);
  await markSent(db, row.key);
  return { key: row.key, nonce, txHash: row.txHash };
}

/** A waiting nonce's current attempt: broadcast again when the node lacks it, bumped when stuck. */
async function keepMoving(ctx: HealContext, current: TxRow, reason: 'dropped' | 'gap', report: HealReport): Promise<void> {
  const { db, chain } = ctx;
  if (!(await nodeHas(chain.client, current.txHash as Hex))) {
    const outcome = await broadcastRaw(chain.client, current.rawTx as Hex, current.txHash as Hex).catch(() => 'refused' as const);
    if (outcome === 'nonce_used') return; // mined meanwhile (ours or not): the next pass settles it
    if (outcome === 'accepted' || outcome === 'nonce_ahead') {
      await markSent(db, current.key);
      report.rebroadcast.push({ key: current.key, nonce: current.nonce, reason });
      return;
    }
    // Refused for another reason (e.g. its fee cap is below the base fee now): re-sign it dearer.
  } else if (ageMs(ctx, current) < ctx.stuckAfterMs) {
    return;
  }
  report.bumped.push(await bump(ctx, current));
}

function ageMs(ctx: HealContext, row: TxRow): number {
  const since = row.sentAt ?? row.updatedAt ?? row.createdAt;
  return (ctx.now ?? new Date()).getTime() - since.getTime();
}

async function markSent(db: Db, key: string, status: ChainTxStatus = 'sent'): Promise<void> {
  const now = new Date();
  await db.update(chainTxs).set({ status, sentAt: now, updatedAt: now }).where(eq(chainTxs.key, key));
}

/** The key without its attempt suffix: `mint:p#3` -> `mint:p`. */
export function baseKey(key: string): string {
  return key.replace(/#\d+$/, '');
}

const percentUp = (value: bigint, percent: bigint) => (value * (100n + percent) + 99n) / 100n;
const max = (...values: bigint[]) => values.reduce((a, b) => (b > a ? b : a));

/**
 * Fees for a new attempt: at least `bumpPercent` over the previous attempt's (and at least 1 wei
 * more, for a zero tip), and enough for the current base fee to double with room for the tip.
 */
async function currentFees(
  ctx: HealContext,
  previous: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } | undefined,
): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }> {
  const client = ctx.chain.client;
  const percent = BigInt(ctx.bumpPercent ?? DEFAULT_BUMP_PERCENT);
  const block = await client.getBlock({ blockTag: 'latest' });
  const baseFee = block.baseFeePerGas ?? 0n;
  const suggestedTip = await client.estimateMaxPriorityFeePerGas().catch(() => 0n);
  const tip = previous
    ? max(percentUp(previous.maxPriorityFeePerGas, percent), previous.maxPriorityFeePerGas + 1n, suggestedTip)
    : suggestedTip;
  const floor = 2n * baseFee + tip;
  const maxFeePerGas = previous ? max(percentUp(previous.maxFeePerGas, percent), previous.maxFeePerGas + 1n, floor) : floor;
  return { maxFeePerGas, maxPriorityFeePerGas: tip };
}

/** Re-signs `current` at its nonce with bumped fees, as a new row that replaces it; then broadcasts that. */
async function bump(ctx: HealContext, current: TxRow): Promise<HealReport['bumped'][number]> {
  const { db, chain } = ctx;
  const parsed = parseTransaction(current.rawTx as Hex);
  const previous =
    parsed.maxFeePerGas !== undefined
      ? { maxFeePerGas: parsed.maxFeePerGas, maxPriorityFeePerGas: parsed.maxPriorityFeePerGas ?? 0n }
      : { maxFeePerGas: parsed.gasPrice ?? 0n, maxPriorityFeePerGas: parsed.gasPrice ?? 0n };
  const fees = await currentFees(ctx, previous);
  const request: TransactionSerializable = {
    chainId: chain.chainId,
    type: 'eip1559',
    nonce: current.nonce,
    to: parsed.to,
    data: parsed.data,
    value: parsed.value ?? 0n,
    gas: parsed.gas,
    accessList: parsed.accessList,
    ...fees,
  };
  const attempts = current.attempts + 1;
  const row = await storeAttempt(db, ctx, request, {
    key: `${baseKey(current.key)}#${attempts}`,
    nonce: current.nonce,
    attempts,
    replaces: current,
  });
  await broadcastRaw(chain.client, row.rawTx as Hex, row.txHash as Hex);
  await markSent(db, row.key);
  return { from: current.key, to: row.key, nonce: current.nonce, attempts, txHash: row.txHash };
}

/**
 * Signs `request` and stores it under `key` (with the old row `replaced` by it and its intents
 * moved, in one SQL transaction) before anything is broadcast. A row already under `key` (an
 * earlier pass that died before broadcasting) is kept and returned: its bytes are the ones to send.
 */
async function storeAttempt(
  db: Db,
  ctx: HealContext,
  request: TransactionSerializable,
  attempt: { key: string; nonce: number; attempts: number; replaces?: TxRow },
): Promise<TxRow> {
  const { account, chain } = ctx;
  const rawTx = await account.signTransaction!(request);
  const previous = attempt.replaces;
  return db.transaction(async (tx) => {
    const now = new Date();
    await tx
      .insert(chainTxs)
      .values({
        key: attempt.key,
        partId: previous?.partId ?? null,
        stepId: previous?.stepId ?? null,
        chainId: chain.chainId,
        fromAddress: account.address,
        nonce: attempt.nonce,
        txHash: keccak256(rawTx),
        rawTx,
        status: 'signed',
        items: previous?.items ?? 0,
        attempts: attempt.attempts,
        maxFeePerGas: (request.maxFeePerGas ?? 0n).toString(),
        maxPriorityFeePerGas: (request.maxPriorityFeePerGas ?? 0n).toString(),
        updatedAt: now,
      })
      .onConflictDoNothing();
    if (previous) {
      await tx
        .update(chainTxs)
        .set({ status: 'replaced', replacedBy: attempt.key, updatedAt: now })
        .where(and(eq(chainTxs.key, previous.key), inArray(chainTxs.status, OPEN)));
      await tx.update(chainIntents).set({ txKey: attempt.key, updatedAt: now }).where(eq(chainIntents.txKey, previous.key));
    }
    const [stored] = await tx.select().from(chainTxs).where(eq(chainTxs.key, attempt.key));
    return stored!;
  });
}

/**
 * The transaction manager's per-tick hook: heals each signer at most once per `everyMs` (a tick may
 * come every few milliseconds under load, and healing asks the node about every open transaction),
 * logging what it changed.
 */
export function healEachTick(log: (line: string) => void, everyMs = 1_000): SignerHook {
  const lastRun = new Map<string, number>();
  return async ({ db, chain, account, settings }) => {
    const now = Date.now();
    if (now - (lastRun.get(account.address) ?? 0) < everyMs) return;
    lastRun.set(account.address, now);
    const report = await healSigner({ db, chain, account, stuckAfterMs: settings.stuckAfterMs });
    const changes = [
      ...report.rebroadcast.map((tx) => `re-broadcast ${tx.key} (nonce ${tx.nonce}, ${tx.reason})`),
      ...report.bumped.map((tx) => `fee bumped ${tx.from} -> ${tx.to} (nonce ${tx.nonce}, attempt ${tx.attempts})`),
      ...report.fillers.map((tx) => `nonce gap ${tx.nonce} filled by ${tx.txHash}`),
      ...report.superseded.map((tx) => `nonce ${tx.nonce} taken by another transaction: ${tx.key} re-queued`),
    ];
    if (changes.length) log(`ledger ${account.address}: ${changes.join('; ')}`);
  };
}
