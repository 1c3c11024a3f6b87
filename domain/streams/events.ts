// Ledger events as streams deliver them, and the query every stream reads: the events of one
// contract after a sequence number that match a subscription's filter, in order. The log holds the
// mirrored events and, after a reorganisation, one `removed` entry per event it took back: both
// numbered from one sequence, so every stream meets them in order through its existing cursor.
import { and, arrayContains, arrayOverlaps, asc, eq, gt, inArray, lte, max } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import { z } from 'zod';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import type { Db } from '../../db/client.js';
import { ledgerEvents, ledgerRemovals } from '../../db/schema.js';
import type { EventFilter } from '../../db/schema.js';
import { lastEvent } from '../mirror/event-log.js';
import type { EventRow, LedgerRef } from '../mirror/event-log.js';

/** Every event the PartRegistry emits, by name. */
export const LEDGER_EVENT_NAMES: readonly string[] = partRegistryAbi.filter((item) => item.type === 'event').map((item) => item.name);

export const eventFilterSchema = z
  .object({
    events: z
      .array(
        z.string().refine(
          (name) => LEDGER_EVENT_NAMES.includes(name),
          (name) => ({ message: `unknown event ${name}; one of ${LEDGER_EVENT_NAMES.join(', ')}` }),
        ),
      )
      .max(50)
      .optional(),
    parts: z.array(z.string().min(1).max(200)).max(1000).optional(),
    participant: z.string().min(1).max(100).optional(),
  })
  .strict();

/** The largest sequence number (ledger_events.id is a PostgreSQL integer). */
export const MAX_SEQ = 2 ** 31 - 1;

/** Where a new subscription starts: before the first event, after the latest, or after a sequence number. */
export const streamStartSchema = z.union([z.literal('oldest'), z.literal('newest'), z.number().int().min(0).max(MAX_SEQ)]);
export type StreamStart = z.infer<typeof streamStartSchema>;

/** One ledger event as streams, webhooks and the API show it. */
export interface StreamEvent {
  /** The mirror's sequence number: increasing in chain order, what a subscriber acknowledges. */
  seq: number;
  /** Stable across redeliveries and reorg re-reads of the same log: `chainId:txHash:logIndex`. */
  id: string;
  name: string;
  chainId: number;
  contract: string;
  blockNumber: number;
  blockHash: string;
  txHash: string;
  logIndex: number;
  parts: string[];
  participants: string[];
  args: Record<string, unknown>;
  /** The block's time. */
  at: string;
  /**
   * Set on a `removed` entry: a reorganisation took back the event `removedSeq` (same `id`, name and
   * content as delivered). The entry's own `seq` is its place in the stream, after the event it removes.
   */
  removed?: true;
  removedSeq?: number;
}

/** What a stream shows of a mirrored event (or of a removal, which carries the same columns). */
export function toStreamEvent(
  row: Pick<
    EventRow,
    | 'id'
    | 'chainId'
    | 'txHash'
    | 'logIndex'
    | 'name'
    | 'address'
    | 'blockNumber'
    | 'blockHash'
    | 'partIds'
    | 'participantIds'
    | 'args'
    | 'at'
  >,
): StreamEvent {
  return {
    seq: row.id,
    id: `${row.chainId}:${row.txHash}:${row.logIndex}`,
    name: row.name,
    chainId: row.chainId,
    contract: row.address,
    blockNumber: row.blockNumber,
    blockHash: row.blockHash,
    txHash: row.txHash,
    logIndex: row.logIndex,
    parts: row.partIds,
    participants: row.participantIds,
    args: row.args,
    at: row.at.toISOString(),
  };
}

type RemovalRow = typeof ledgerRemovals.$inferSelect;

function toRemovedEvent(row: RemovalRow): StreamEvent {
  return { ...toStreamEvent(row), removed: true, removedSeq: row.removedSeq };
}

/** The columns a filter looks at, in either table of the log. */
type Filterable = typeof ledgerEvents | typeof ledgerRemovals;

function matching(table: Filterable, ledger: LedgerRef, filter: EventFilter): SQL {
  const conditions: SQL[] = [eq(table.chainId, ledger.chainId), eq(table.address, ledger.address)];
  if (filter.events?.length) conditions.push(inArray(table.name, filter.events));
  if (filter.parts?.length) conditions.push(arrayOverlaps(table.partIds, filter.parts));
  if (filter.participant) conditions.push(arrayContains(table.participantIds, [filter.participant]));
  return and(...conditions)!;
}

/**
 * The stream entries after `afterSeq` that match `filter`, oldest first, at most `limit`: mirrored
 * events, and `removed` entries for the events at or before `afterSeq` (the ones this cursor has
 * passed, so delivered). A removed event past the cursor was never delivered from it: no entry.
 */
export async function eventsAfter(db: Db, ledger: LedgerRef, filter: EventFilter, afterSeq: number, limit: number): Promise<StreamEvent[]> {
  const [rows, removals] = await Promise.all([
    db
      .select()
      .from(ledgerEvents)
      .where(and(matching(ledgerEvents, ledger, filter), gt(ledgerEvents.id, afterSeq)))
      .orderBy(asc(ledgerEvents.id))
      .limit(limit),
    db
      .select()
      .from(ledgerRemovals)
      .where(and(matching(ledgerRemovals, ledger, filter), gt(ledgerRemovals.id, afterSeq), lte(ledgerRemovals.removedSeq, afterSeq)))
      .orderBy(asc(ledgerRemovals.id))
      .limit(limit),
  ]);
  return [...rows.map(toStreamEvent), ...removals.map(toRemovedEvent)].sort((a, b) => a.seq - b.seq).slice(0, limit);
}

/**
 * The contract's latest sequence number, event or `removed` entry (0 when there is none): a stream
 * starting there gets neither the events before it nor removals of them.
 */
export async function latestSeq(db: Db, ledger: LedgerRef): Promise<number> {
  const [removal] = await db
    .select({ seq: max(ledgerRemovals.id) })
    .from(ledgerRemovals)
    .where(and(eq(ledgerRemovals.chainId, ledger.chainId), eq(ledgerRemovals.address, ledger.address)));
  return Math.max((await lastEvent(db, ledger))?.id ?? 0, removal?.seq ?? 0);
}

/** The cursor a stream starting at `start` begins with: deliveries are the events after it. */
export async function cursorOf(db: Db, ledger: LedgerRef, start: StreamStart): Promise<number> {
  if (start === 'oldest') return 0;
  if (start === 'newest') return latestSeq(db, ledger);
  return start;
}
