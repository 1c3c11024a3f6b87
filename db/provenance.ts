// Provenance from the SQL mirror. The backward trace walks part_links down from a product (what it
// is made of, recursively: assembled components, source lots, bundle contents); the forward trace
// walks them up from a lot (every bundle and product it reached, for a recall). Both are one
// recursive query over indexed links, then one query each for the parts, certificates and custody
// of everything found.
import { asc, inArray, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { certificates, ledgerEvents, ownership, parts } from './schema.js';
import type { PartLinkKind } from './schema.js';

/** How deep a trace goes; supply chains are far shallower, so this only stops runaway data. */
export const MAX_TRACE_DEPTH = 64;
/** How many tree nodes a backward trace returns at most (a shared source appears once per path). */
export const MAX_TRACE_NODES = 100_000;

export interface LinkRow {
  part_id: string;
  /** The part this row was reached from (null for the traced part). */
  from_id: string | null;
  link: PartLinkKind | null;
  linked_tx: string | null;
  linked_at: Date | null;
  unlinked_at: Date | null;
  depth: number;
}

/** Raw rows come back with timestamps as text or as Date, depending on the driver. */
const dateOf = (value: unknown): Date | null =>
  value === null || value === undefined ? null : value instanceof Date ? value : new Date(String(value));

async function linkRows(db: Db, query: SQL): Promise<LinkRow[]> {
  const { rows } = (await db.execute(query)) as unknown as { rows: LinkRow[] };
  return rows.map((row) => ({ ...row, depth: Number(row.depth), linked_at: dateOf(row.linked_at), unlinked_at: dateOf(row.unlinked_at) }));
}

/** Every path down from `partId`: current bundle contents, components and sources, recursively. */
export function backwardLinks(db: Db, partId: string, limit = MAX_TRACE_NODES + 1): Promise<LinkRow[]> {
  return linkRows(
    db,
    sql`
      with recursive tree(part_id, from_id, link, linked_tx, linked_at, unlinked_at, depth, path) as (
        select ${partId}::text, null::text, null::text, null::text, null::timestamptz, null::timestamptz, 0, array[${partId}::text]
        union all
        select l.child_id, l.parent_id, l.kind, l.linked_tx, l.linked_at, l.unlinked_at, t.depth + 1, t.path || l.child_id
        from tree t
        join part_links l on l.parent_id = t.part_id
        where (l.kind <> 'content' or l.unlinked_tx is null)
          and l.child_id <> all(t.path)
          and t.depth < ${MAX_TRACE_DEPTH}
      )
      select part_id, from_id, link, linked_tx, linked_at, unlinked_at, depth from tree limit ${limit}`,
  );
}

/** Every part `partId` reached going up (each once, by its shortest path): bundles, derived parts, products. */
export function forwardLinks(db: Db, partId: string): Promise<LinkRow[]> {
  return linkRows(
    db,
    sql`
      with recursive reach(part_id, from_id, link, linked_tx, linked_at, unlinked_at, depth, path) as (
        select ${partId}::text, null::text, null::text, null::text, null::timestamptz, null::timestamptz, 0, array[${partId}::text]
        union all
        select l.parent_id, l.child_id, l.kind, l.linked_tx, l.linked_at, l.unlinked_at, r.depth + 1, r.path || l.parent_id
        from reach r
        join part_links l on l.child_id = r.part_id
        where l.parent_id <> all(r.path)
          and r.depth < ${MAX_TRACE_DEPTH}
      )
      select distinct on (part_id) part_id, from_id, link, linked_tx, linked_at, unlinked_at, depth
      from reach order by part_id, depth, linked_at`,
  );
}

export type PartSummary = Pick<
  typeof parts.$inferSelect,
  'id' | 'lifecycle' | 'lifecycleVersion' | 'status' | 'ownerId' | 'decommissionedAt'
>;
export type CertificateRow = typeof certificates.$inferSelect;
export type CustodyRow = typeof ownership.$inferSelect;

/** The parts, certificates and custody histories of a set of parts, grouped by part id. */
export async function partFacts(db: Db, partIds: string[]) {
  const [partRows, certificateRows, custodyRows] = await Promise.all([
    db
      .select({
        id: parts.id,
        lifecycle: parts.lifecycle,
        lifecycleVersion: parts.lifecycleVersion,
        status: parts.status,
        ownerId: parts.ownerId,
        decommissionedAt: parts.decommissionedAt,
      })
      .from(parts)
      .where(inArray(parts.id, partIds)),
    db.select().from(certificates).where(inArray(certificates.partId, partIds)).orderBy(asc(certificates.attachedAt)),
    // Ordered by part first, as they are grouped: ownership_part_order_idx serves both.
    db.select().from(ownership).where(inArray(ownership.partId, partIds)).orderBy(asc(ownership.partId), asc(ownership.id)),
  ]);
  return {
    parts: new Map(partRows.map((row) => [row.id, row])),
    certificates: groupBy(certificateRows, (row) => row.partId),
    custody: groupBy(custodyRows, (row) => row.partId),
  };
}

export type LedgerEventRow = typeof ledgerEvents.$inferSelect;

/** Every mirrored chain event that concerns `partId`, in chain order. */
export async function partHistory(db: Db, partId: string): Promise<LedgerEventRow[]> {
  return db
    .select()
    .from(ledgerEvents)
    .where(sql`${ledgerEvents.partIds} @> array[${partId}]::text[]`)
    .orderBy(asc(ledgerEvents.blockNumber), asc(ledgerEvents.logIndex));
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return groups;
}
