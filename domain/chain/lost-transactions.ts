// Writes the chain lost behind our back: a node that lost its last blocks (anvil killed between
// its state saves) or a reorganisation deeper than the confirmations took back transactions SQL
// records as mined. Run at start-up (before any worker, intake or gateway sends) and on demand: each
// recorded transaction whose receipt the node no longer has is broadcast again with its stored
// bytes, in the order it was first mined (block, then nonce), so every transaction finds the state
// it was made for and every recorded hash stays valid; the new block is recorded. One whose nonce
// another transaction has taken since can never come back: it is `lost`, and the intents it
// carried are queued again for their signer's leader.
import { and, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import type { Hex, TransactionReceipt } from 'viem';
import type { Db } from '../../db/client.js';
import { chainTxs } from '../../db/schema.js';
import type { ChainTxStatus } from '../../db/schema.js';
import type { ChainConnection } from './connection.js';
import { broadcastRaw, nodeHas, receiptOrNull } from './node-lookups.js';
import { requeueIntents } from './stuck-transactions.js';

type TxRow = typeof chainTxs.$inferSelect;

export interface RecoveryOptions {
  /** How long to wait for the receipts of one original block's transactions (default 30 s). */
  receiptTimeoutMs?: number;
  /**
   * Transactions recorded in blocks this far below the node's head are taken as settled (a reorg
   * deeper than that is not expected); everything above, and every unmined one, is checked.
   */
  depth?: number;
  log?: (line: string) => void;
}

export interface RecoveryReport {
  /** Recorded transactions compared with the node. */
  checked: number;
  /** Mined ones found in another block than recorded (a reorg that kept them): block updated. */
  moved: string[];
  /** Broadcast again, with the block each is now in (null while still pending). */
  rebroadcast: { key: string; txHash: string; blockNumber: string | null }[];
  /** Nonce taken by another transaction: marked `lost`, intents queued again. */
  lost: { key: string; txHash: string; nonce: number }[];
  requeuedIntents: string[];
  durationMs: number;
}

const RECORDED_MINED: ChainTxStatus[] = ['mined', 'reverted'];
const UNMINED: ChainTxStatus[] = ['signed', 'sent'];
const CONCURRENCY = 16;

export async function recoverLostTransactions(db: Db, chain: ChainConnection, options: RecoveryOptions = {}): Promise<RecoveryReport> {
  const started = performance.now();
  const report: RecoveryReport = { checked: 0, moved: [], rebroadcast: [], lost: [], requeuedIntents: [], durationMs: 0 };
  const head = await chain.client.getBlockNumber({ cacheTime: 0 });
  const since = head - BigInt(options.depth ?? 10_000);
  const rows = await db
    .select()
    .from(chainTxs)
    .where(
      and(
        eq(chainTxs.chainId, chain.chainId),
        or(
          inArray(chainTxs.status, UNMINED),
          and(
            inArray(chainTxs.status, RECORDED_MINED),
            // block_number is decimal text: compared as a number.
            or(isNull(chainTxs.blockNumber), sql`(${chainTxs.blockNumber})::numeric >= ${since.toString()}::numeric`),
          ),
        ),
      ),
    );
  const candidates = rows;
  report.checked = candidates.length;
  const receipts = await mapLimit(candidates, CONCURRENCY, (row) => receiptOrNull(chain.client, row.txHash as Hex));
  const missing: TxRow[] = [];
  for (const [index, row] of candidates.entries()) {
    const receipt = receipts[index];
    if (receipt) {
      if (RECORDED_MINED.includes(row.status) && row.blockHash !== null && row.blockHash !== receipt.blockHash) report.moved.push(row.key);
      if (RECORDED_MINED.includes(row.status) && row.blockHash !== receipt.blockHash) await recordReceipt(db, row.key, receipt);
    } else {
      missing.push(row);
    }
  }
  const toSend = replayOrder(missing, candidates);
  if (toSend.length > 0) await replay(db, chain, toSend, options, report);
  report.durationMs = Math.round(performance.now() - started);
  if (toSend.length > 0 || report.moved.length > 0)
    options.log?.(
      `lost writes: checked ${report.checked} transaction(s); ${report.rebroadcast.length} broadcast again, ` +
        `${report.moved.length} found in another block, ${report.lost.length} lost (nonce taken), ` +
        `${report.requeuedIntents.length} intent(s) queued again (${report.durationMs} ms)`,
    );
  return report;
}

/**
 * The transactions to broadcast again, grouped by the block they were first mined in, in chain
 * order; unmined ones (signed or sent, the newest attempt at a nonce no recorded-mined row holds)
 * follow in the order they were made.
 */
function replayOrder(missing: TxRow[], all: TxRow[]): TxRow[][] {
  const nonceKey = (row: TxRow) => `${row.fromAddress}:${row.nonce}`;
  const minedNonces = new Set(all.filter((row) => RECORDED_MINED.includes(row.status)).map(nonceKey));
  const wasMined = missing
    .filter((row) => RECORDED_MINED.includes(row.status))
    .sort((a, b) => compareBig(a.blockNumber, b.blockNumber) || a.nonce - b.nonce);
  const groups = new Map<string, TxRow[]>();
  for (const row of wasMined) groups.set(row.blockNumber ?? '', [...(groups.get(row.blockNumber ?? '') ?? []), row]);
  const newest = new Map<string, TxRow>();
  for (const row of missing.filter((r) => UNMINED.includes(r.status) && !minedNonces.has(nonceKey(r)))) {
    const seen = newest.get(nonceKey(row));
    if (!seen || row.attempts > seen.attempts) newest.set(nonceKey(row), row);
  }
  const unmined = [...newest.values()].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.nonce - b.nonce);
  return [...groups.values(), ...(unmined.length > 0 ? [unmined] : [])];
}

function compareBig(a: string | null, b: string | null): number {
  const x = BigInt(a ?? '0');
  const y = BigInt(b ?? '0');
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Broadcasts each group, then waits for its receipts before the next (later blocks built on it). */
async function replay(db: Db, chain: ChainConnection, groups: TxRow[][], options: RecoveryOptions, report: RecoveryReport): Promise<void> {
  let patience = options.receiptTimeoutMs ?? 30_000;
  for (const group of groups) {
    const sent: TxRow[] = [];
    for (const row of group) {
      const outcome = await broadcastRaw(chain.client, row.rawTx as Hex, row.txHash as Hex).catch((error: unknown) => {
        options.log?.(`lost writes: ${row.key} (${row.txHash}) refused: ${(error as Error).message.split('\n')[0]}`);
        return 'refused' as const;
      });
      if (outcome === 'accepted' || outcome === 'nonce_ahead') sent.push(row);
      else if (outcome === 'nonce_used' && RECORDED_MINED.includes(row.status)) await markLost(db, chain, row, report);
      // An unmined one whose nonce is used: another attempt at it was mined; healSigner settles which.
    }
    for (const row of sent) {
      const receipt = await waitReceipt(chain, row.txHash as Hex, patience);
      if (receipt) await recordReceipt(db, row.key, receipt);
      else patience = 0; // stuck behind something we cannot send: do not wait on every later group too
      report.rebroadcast.push({ key: row.key, txHash: row.txHash, blockNumber: receipt?.blockNumber.toString() ?? null });
    }
  }
}

async function markLost(db: Db, chain: ChainConnection, row: TxRow, report: RecoveryReport): Promise<void> {
  // The node may hold these very bytes after all (mined meanwhile by another process's replay).
  if (await nodeHas(chain.client, row.txHash as Hex)) return;
  const requeued = await db.transaction(async (tx) => {
    const now = new Date();
    await tx.update(chainTxs).set({ status: 'lost', blockNumber: null, blockHash: null, updatedAt: now }).where(eq(chainTxs.key, row.key));
    return requeueIntents(tx, [row.key], now);
  });
  report.lost.push({ key: row.key, txHash: row.txHash, nonce: row.nonce });
  report.requeuedIntents.push(...requeued);
}

async function waitReceipt(chain: ChainConnection, hash: Hex, timeoutMs: number): Promise<TransactionReceipt | null> {
  const now = await receiptOrNull(chain.client, hash);
  if (now || timeoutMs <= 0) return now;
  return chain.client.waitForTransactionReceipt({ hash, timeout: timeoutMs }).catch(() => null);
}

async function recordReceipt(db: Db, key: string, receipt: TransactionReceipt): Promise<void> {
  await db
    .update(chainTxs)
    .set({
      status: receipt.status === 'success' ? 'mined' : 'reverted',
      blockNumber: receipt.blockNumber.toString(),
      blockHash: receipt.blockHash,
      sentAt: new Date(),
      updatedAt: new Date(),
    })
    .where(eq(chainTxs.key, key));
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  });
  await Promise.all(workers);
  return results;
}
