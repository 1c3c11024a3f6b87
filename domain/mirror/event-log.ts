// The mirrored event log: rows appended in chain order, each hash-chained to the one before it on
// the same contract. The hash covers everything the chain said (block, transaction, raw log) and
// what the mirror made of it (name, parts, participants, arguments), so any hand edit shows.
import { createHash } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Address, Hex } from 'viem';
import type { Db } from '../../db/client.js';
import { ledgerEvents, ledgerRemovals } from '../../db/schema.js';
import { canonicalJson } from '../chain/part-registry.js';

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** One contract on one chain: the unit the listener mirrors and `verify` checks. */
export interface LedgerRef {
  chainId: number;
  address: Address;
}

/** The hash before a contract's first event. */
export const GENESIS_HASH: Hex = `0x${'00'.repeat(32)}`;

export type EventRow = typeof ledgerEvents.$inferSelect;

/** What a mirrored row holds, and its hash covers. */
export interface EventContent {
  chainId: number;
  address: string;
  blockNumber: number;
  blockHash: string;
  logIndex: number;
  txHash: string;
  topics: string[];
  data: string;
  name: string;
  partIds: string[];
  participantIds: string[];
  args: Record<string, unknown>;
  at: Date;
}

/** The row's hash: SHA-256 over the previous hash and the row's content. */
export function eventHash(prevHash: string, row: EventContent): Hex {
  // Keys sorted, so the hash does not depend on how jsonb orders them.
  const content = canonicalJson({
    chainId: row.chainId,
    address: row.address.toLowerCase(),
    blockNumber: row.blockNumber,
    blockHash: row.blockHash.toLowerCase(),
    logIndex: row.logIndex,
    txHash: row.txHash.toLowerCase(),
    topics: row.topics.map((topic) => topic.toLowerCase()),
    data: row.data.toLowerCase(),
    name: row.name,
    partIds: row.partIds,
    participantIds: row.participantIds,
    args: row.args,
    at: new Date(row.at).toISOString(),
  });
  return `0x${createHash('sha256').update(prevHash.toLowerCase()).update('\n').update(content).digest('hex')}`;
}

/**
 * Serialises writers of one contract's mirror across processes until the transaction ends (the
 * listener, and activities catching the mirror up to their own writes).
 */
export async function lockLedger(tx: Tx, ledger: LedgerRef): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${ledger.chainId}, hashtext(${`tracewell-ledger:${ledger.address.toLowerCase()}`}))`);
}

/** The contract's last mirrored row: its sequence number and hash (undefined before the first). */
export async function lastEvent(db: Tx | Db, ledger: LedgerRef): Promise<{ id: number; hash: string } | undefined> {
  const [last] = await db
    .select({ id: ledgerEvents.id, hash: ledgerEvents.hash })
    .from(ledgerEvents)
    .where(and(eq(ledgerEvents.chainId, ledger.chainId), eq(ledgerEvents.address, ledger.address)))
    .orderBy(desc(ledgerEvents.id))
    .limit(1);
  return last;
}

/** The hash of the contract's last mirrored row (the genesis hash when there is none). */
export async function lastHash(tx: Tx | Db, ledger: LedgerRef): Promise<string> {
  return (await lastEvent(tx, ledger))?.hash ?? GENESIS_HASH;
}

/**
 * Appends one row after `prevHash`; returns the stored row, or nothing when that log is already
 * mirrored (the same chain, transaction and log index). Call under `lockLedger`, in chain order.
 */
export async function appendEvent(tx: Tx, prevHash: string, row: EventContent): Promise<EventRow | undefined> {
  const hash = eventHash(prevHash, row);
  const [inserted] = await tx
    .insert(ledgerEvents)
    .values({ ...row, prevHash, hash })
    .onConflictDoNothing()
    .returning();
  return inserted;
}

/**
 * Records, for reorganisation `reorgId`, one `removed` stream entry per removed row, in sequence
 * order. Their sequence numbers come after every row mirrored so far (the log's own sequence), so
 * a stream reading after its cursor meets them before the events the new chain brings. Call under
 * `lockLedger`, in the transaction that deletes the rows.
 */
export async function recordRemovals(tx: Tx, reorgId: number, removed: EventRow[]): Promise<void> {
  for (const row of [...removed].sort((a, b) => a.id - b.id)) {
    await tx.insert(ledgerRemovals).values({
      chainId: row.chainId,
      address: row.address,
      removedSeq: row.id,
      reorgId,
      blockNumber: row.blockNumber,
      blockHash: row.blockHash,
      logIndex: row.logIndex,
      txHash: row.txHash,
      name: row.name,
      partIds: row.partIds,
      participantIds: row.participantIds,
      args: row.args,
      at: row.at,
    });
  }
}
