// The failed steps ops work on: one row per part that is parked on (or failed at) a step, oldest
// failure first, filtered and paged by keyset so a long list pages in constant time.
import { and, asc, count, eq, gt, inArray, lte, or, sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { parts, stepRuns } from './schema.js';

export interface FailureFilter {
  lifecycle?: string;
  version?: number;
  /** Step kind, e.g. `transfer`. */
  kind?: string;
  stepId?: string;
  /** Error code, e.g. `PartIsBundled` or `HttpRequestError`. */
  code?: string;
  /** Parked parts wait for an operator (default); failed ones ended (`onFailure: fail`). */
  partStatus?: ('parked' | 'failed')[];
  /** Failed at least this long ago / at most this long ago (milliseconds). */
  olderThanMs?: number;
  newerThanMs?: number;
  partIds?: string[];
}

/** Where the next page starts: the last row's failure time (full precision) and part id. */
export interface FailureCursor {
  failedAt: string;
  partId: string;
}

export interface FailureRow {
  partId: string;
  lifecycle: string;
  lifecycleVersion: number;
  partStatus: string;
  stepId: string;
  kind: string;
  errorCode: string | null;
  errorMessage: string | null;
  attempts: number;
  lastTxHash: string | null;
  /** Set whenever a step is marked failed; null only for rows written by hand. */
  failedAt: Date | null;
  /** `failedAt` at full database precision, for cursors. */
  failedAtExact: string;
}

function conditions(filter: FailureFilter, now: Date): SQL[] {
  const where: SQL[] = [eq(stepRuns.status, 'failed'), inArray(parts.status, filter.partStatus ?? ['parked'])];
  if (filter.lifecycle) where.push(eq(parts.lifecycle, filter.lifecycle));
  if (filter.version !== undefined) where.push(eq(parts.lifecycleVersion, filter.version));
  if (filter.kind) where.push(eq(stepRuns.kind, filter.kind));
  if (filter.stepId) where.push(eq(stepRuns.stepId, filter.stepId));
  if (filter.code) where.push(eq(stepRuns.lastErrorCode, filter.code));
  if (filter.olderThanMs !== undefined) where.push(lte(stepRuns.finishedAt, new Date(now.getTime() - filter.olderThanMs)));
  if (filter.newerThanMs !== undefined) where.push(gt(stepRuns.finishedAt, new Date(now.getTime() - filter.newerThanMs)));
  if (filter.partIds) where.push(inArray(stepRuns.partId, filter.partIds));
  return where;
}

export async function listFailures(
  db: Db,
  filter: FailureFilter,
  page: { limit: number; after?: FailureCursor },
  now = new Date(),
): Promise<{ rows: FailureRow[]; next?: FailureCursor }> {
  const where = conditions(filter, now);
  if (page.after) {
    const at = sql`${page.after.failedAt}::timestamptz`;
    where.push(or(gt(stepRuns.finishedAt, at), and(eq(stepRuns.finishedAt, at), gt(stepRuns.partId, page.after.partId)))!);
  }
  const rows = await db
    .select({
      partId: stepRuns.partId,
      lifecycle: parts.lifecycle,
      lifecycleVersion: parts.lifecycleVersion,
      partStatus: parts.status,
      stepId: stepRuns.stepId,
      kind: stepRuns.kind,
      errorCode: stepRuns.lastErrorCode,
      errorMessage: stepRuns.lastErrorMessage,
      attempts: stepRuns.attempts,
      lastTxHash: stepRuns.lastTxHash,
      failedAt: stepRuns.finishedAt,
      failedAtExact: sql<string>`${stepRuns.finishedAt}::text`,
    })
    .from(stepRuns)
    .innerJoin(parts, eq(parts.id, stepRuns.partId))
    .where(and(...where))
    .orderBy(asc(stepRuns.finishedAt), asc(stepRuns.partId))
    .limit(page.limit + 1);
  const more = rows.length > page.limit;
  const shown = more ? rows.slice(0, page.limit) : rows;
  const last = shown.at(-1);
  return { rows: shown, next: more && last ? { failedAt: last.failedAtExact, partId: last.partId } : undefined };
}

export async function countFailures(db: Db, filter: FailureFilter, now = new Date()): Promise<number> {
  const [row] = await db
    .select({ total: count() })
    .from(stepRuns)
    .innerJoin(parts, eq(parts.id, stepRuns.partId))
    .where(and(...conditions(filter, now)));
  return row?.total ?? 0;
}
