// Idempotency-Keys, the fingerprint of the request that first used each (IETF Idempotency-Key
// draft), and the reservation that makes concurrent repeats one action: the key's row is inserted
// (unique per participant and key) before the work starts, and names its holder until a lease ends.
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { idempotencyKeys } from './schema.js';

export interface IdempotencyClaim {
  participantId: string;
  key: string;
  fingerprint: string;
  method: string;
  path: string;
}

export interface StoredResponse {
  status: number;
  contentType: string | null;
  body: string;
}

/** What a request finds when it asks for the key. */
export type Reservation =
  /** This request holds the key: do the work, then complete or release. */
  | { kind: 'reserved' }
  /** The key belongs to another request (method, path or body): the caller refuses. */
  | { kind: 'mismatch'; first: Pick<IdempotencyClaim, 'fingerprint' | 'method' | 'path'> }
  /** The same request succeeded before: answer with its response. */
  | { kind: 'replay'; response: StoredResponse }
  /** The same request is being worked on by another holder, whose lease ends in `remainingMs`. */
  | { kind: 'busy'; remainingMs: number };

const leaseEnd = (leaseMs: number) => sql`now() + make_interval(secs => ${leaseMs / 1000})`;
const byKey = (participantId: string, key: string) => and(eq(idempotencyKeys.participantId, participantId), eq(idempotencyKeys.key, key));

/**
 * Reserves the key for `holder` for `leaseMs`, atomically: a new key is inserted with its holder;
 * a known key with the same fingerprint, no stored response and no live holder (none, or a lease
 * that lapsed) is taken over. Otherwise says what the key holds. Times are the database's, so
 * every process agrees on when a lease lapses.
 */
export async function reserveIdempotencyKey(db: Db, claim: IdempotencyClaim, holder: string, leaseMs: number): Promise<Reservation> {
  const inserted = await db
    .insert(idempotencyKeys)
    .values({ ...claim, holder, lockedUntil: leaseEnd(leaseMs) })
    .onConflictDoNothing()
    .returning({ key: idempotencyKeys.key });
  if (inserted[0]) return { kind: 'reserved' };
  const taken = await db
    .update(idempotencyKeys)
    .set({ holder, lockedUntil: leaseEnd(leaseMs), updatedAt: sql`now()` })
    .where(
      and(
        byKey(claim.participantId, claim.key),
        eq(idempotencyKeys.fingerprint, claim.fingerprint),
        isNull(idempotencyKeys.responseStatus),
        or(isNull(idempotencyKeys.lockedUntil), lt(idempotencyKeys.lockedUntil, sql`now()`)),
      ),
    )
    .returning({ key: idempotencyKeys.key });
  if (taken[0]) return { kind: 'reserved' };
  const [row] = await db
    .select({
      fingerprint: idempotencyKeys.fingerprint,
      method: idempotencyKeys.method,
      path: idempotencyKeys.path,
      status: idempotencyKeys.responseStatus,
      contentType: idempotencyKeys.responseContentType,
      body: idempotencyKeys.responseBody,
      remainingMs: sql<number>`greatest(0, extract(epoch from (${idempotencyKeys.lockedUntil} - now())) * 1000)::float8`,
    })
    .from(idempotencyKeys)
    .where(byKey(claim.participantId, claim.key));
  // Gone between the statements: only a released-and-deleted key could be, which nothing does; ask again.
  if (!row) return reserveIdempotencyKey(db, claim, holder, leaseMs);
  if (row.fingerprint !== claim.fingerprint) return { kind: 'mismatch', first: row };
  if (row.status !== null) return { kind: 'replay', response: { status: row.status, contentType: row.contentType, body: row.body ?? '' } };
  return { kind: 'busy', remainingMs: Number(row.remainingMs ?? 0) };
}

const held = (participantId: string, key: string, holder: string) => and(byKey(participantId, key), eq(idempotencyKeys.holder, holder));

/** Extends the holder's lease; false when it no longer holds the key (its lease lapsed and another took it). */
export async function renewIdempotencyKey(db: Db, participantId: string, key: string, holder: string, leaseMs: number): Promise<boolean> {
  const renewed = await db
    .update(idempotencyKeys)
    .set({ lockedUntil: leaseEnd(leaseMs) })
    .where(held(participantId, key, holder))
    .returning({ key: idempotencyKeys.key });
  return renewed.length > 0;
}

/** Stores the holder's response for every repeat, and frees the key's lease. */
export async function completeIdempotencyKey(
  db: Db,
  participantId: string,
  key: string,
  holder: string,
  response: StoredResponse,
): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({
      holder: null,
      lockedUntil: null,
      responseStatus: response.status,
      responseContentType: response.contentType,
      responseBody: response.body,
      updatedAt: sql`now()`,
    })
    .where(held(participantId, key, holder));
}

/** Frees the key without a response (the work failed): the next repeat does the work again. */
export async function releaseIdempotencyKey(db: Db, participantId: string, key: string, holder: string): Promise<void> {
  await db
    .update(idempotencyKeys)
    .set({ holder: null, lockedUntil: null, updatedAt: sql`now()` })
    .where(held(participantId, key, holder));
}
