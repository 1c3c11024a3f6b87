// The SQL side of the transaction manager: write intents (chain_intents) and the signed transactions
// that carry them (chain_txs). Every state change of an intent is one statement (or one SQL
// transaction), so any process can crash between two of them and another carries on.
import { and, asc, eq, inArray, isNotNull, max, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { chainIntents, chainTxs } from '../../db/schema.js';

export type IntentRow = typeof chainIntents.$inferSelect;
export type TxRow = typeof chainTxs.$inferSelect;
export type NewTxRow = typeof chainTxs.$inferInsert;

/** Why an intent failed, as stored: the revert data (decoded by the submitter with its ABI) and a readable name. */
export interface IntentError {
  message: string;
  name?: string;
  args?: unknown[];
  /** The revert data, hex. */
  data?: string;
  /** The whole transaction reverted (out of gas, ...), not this item's call. */
  txHash?: string;
}

export async function findIntent(db: Db, key: string): Promise<IntentRow | undefined> {
  const [row] = await db.select().from(chainIntents).where(eq(chainIntents.key, key));
  return row;
}

/** Inserts the intent unless its key exists; true when this call inserted it. */
export async function insertIntent(db: Db, row: typeof chainIntents.$inferInsert): Promise<boolean> {
  const inserted = await db.insert(chainIntents).values(row).onConflictDoNothing().returning({ key: chainIntents.key });
  return inserted.length > 0;
}

/** Queues a failed intent again (a retried step): one more attempt, its old error cleared. */
export async function requeueFailed(db: Db, key: string): Promise<void> {
  await db
    .update(chainIntents)
    .set({
      status: 'queued',
      txKey: null,
      itemIndex: null,
      error: null,
      attempts: sql`${chainIntents.attempts} + 1`,
      updatedAt: new Date(),
    })
    .where(and(eq(chainIntents.key, key), eq(chainIntents.status, 'failed')));
}

/** The signers that have intents waiting to be sent, or sent and not yet settled. */
export async function signersWithWork(db: Db, chainId: number): Promise<string[]> {
  const rows = await db
    .selectDistinct({ signer: chainIntents.signer })
    .from(chainIntents)
    .where(and(eq(chainIntents.chainId, chainId), inArray(chainIntents.status, ['queued', 'sent'])));
  return rows.map((row) => row.signer);
}

/** The oldest queued intents of a signer. */
export async function queuedIntents(db: Db, chainId: number, signer: string, limit: number): Promise<IntentRow[]> {
  return db
    .select()
    .from(chainIntents)
    .where(and(eq(chainIntents.chainId, chainId), eq(chainIntents.signer, signer), eq(chainIntents.status, 'queued')))
    .orderBy(asc(chainIntents.createdAt), asc(chainIntents.key))
    .limit(limit);
}

/** The transactions carrying a signer's sent, unsettled intents (whichever row now holds each nonce). */
export async function unsettledTxs(db: Db, chainId: number, signer: string): Promise<{ tx: TxRow; intents: IntentRow[] }[]> {
  const intents = await db
    .select()
    .from(chainIntents)
    .where(
      and(
        eq(chainIntents.chainId, chainId),
        eq(chainIntents.signer, signer),
        eq(chainIntents.status, 'sent'),
        isNotNull(chainIntents.txKey),
      ),
    );
  if (intents.length === 0) return [];
  const keys = [...new Set(intents.map((intent) => intent.txKey!))];
  const txs = await db.select().from(chainTxs).where(inArray(chainTxs.key, keys));
  return txs.sort((a, b) => a.nonce - b.nonce).map((tx) => ({ tx, intents: intents.filter((intent) => intent.txKey === tx.key) }));
}

/** The highest nonce of a stored transaction of `signer` that still counts (not replaced, not lost). */
export async function highestStoredNonce(db: Db, chainId: number, signer: string): Promise<number | null> {
  const [row] = await db
    .select({ nonce: max(chainTxs.nonce) })
    .from(chainTxs)
    .where(and(eq(chainTxs.chainId, chainId), eq(chainTxs.fromAddress, signer), notInArray(chainTxs.status, ['replaced', 'lost'])));
  return row?.nonce ?? null;
}

/**
 * Stores a signed transaction and points its intents at it, in one SQL transaction, BEFORE it is
 * broadcast: from then on these intents are never batched again; the stored bytes are re-broadcast
 * or waited for. `intentKeys[i]` is item i of a batch (item index null for a lone write).
 */
export async function storeSignedTx(db: Db, tx: NewTxRow, intentKeys: string[], batched: boolean): Promise<void> {
  await db.transaction(async (t) => {
    // A lone write's row carries the intent's key; an earlier, dead transaction under it is replaced.
    await t
      .insert(chainTxs)
      .values(tx)
      .onConflictDoUpdate({ target: chainTxs.key, set: { ...tx, replacedBy: null, blockHash: null } });
    for (const [index, key] of intentKeys.entries()) {
      await t
        .update(chainIntents)
        .set({ status: 'sent', txKey: tx.key, itemIndex: batched ? index : null, updatedAt: new Date() })
        .where(eq(chainIntents.key, key));
    }
  });
}

export async function updateTx(db: Db, key: string, set: Partial<NewTxRow>): Promise<void> {
  await db
    .update(chainTxs)
    .set({ ...set, updatedAt: new Date() })
    .where(eq(chainTxs.key, key));
}

export async function markIntents(db: Db, keys: string[], status: 'done' | 'failed' | 'queued', error?: IntentError): Promise<void> {
  if (keys.length === 0) return;
  const back = status === 'queued' ? { txKey: null, itemIndex: null } : {};
  // A node's message may quote raw revert bytes; PostgreSQL text holds no NUL.
  const stored = error ? { ...error, message: error.message.replaceAll('\u0000', '') } : null;
  await db
    .update(chainIntents)
    .set({ status, error: stored, ...back, updatedAt: new Date() })
    .where(inArray(chainIntents.key, keys));
}

/** Puts a dead transaction's intents back in the queue (a transaction that did not land carries nothing). */
export async function requeueTxIntents(db: Db, txKey: string): Promise<void> {
  await db
    .update(chainIntents)
    .set({ status: 'queued', txKey: null, itemIndex: null, attempts: sql`${chainIntents.attempts} + 1`, updatedAt: new Date() })
    .where(and(eq(chainIntents.txKey, txKey), eq(chainIntents.status, 'sent')));
}

export async function findTx(db: Db, key: string): Promise<TxRow | undefined> {
  const [row] = await db.select().from(chainTxs).where(eq(chainTxs.key, key));
  return row;
}
