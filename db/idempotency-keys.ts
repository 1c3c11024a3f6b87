// Idempotency-Keys and the fingerprint of the request that first used each (IETF Idempotency-Key draft).
import { and, eq } from 'drizzle-orm';
import type { Db } from './client.js';
import { idempotencyKeys } from './schema.js';

export interface IdempotencyClaim {
  participantId: string;
  key: string;
  fingerprint: string;
  method: string;
  path: string;
}

/**
 * Records the key for this request, or finds the request that used it first. Returns that first
 * request (this one when the key was new): the caller compares fingerprints.
 */
export async function claimIdempotencyKey(
  db: Db,
  claim: IdempotencyClaim,
): Promise<Pick<IdempotencyClaim, 'fingerprint' | 'method' | 'path'>> {
  const inserted = await db
    .insert(idempotencyKeys)
    .values(claim)
    .onConflictDoNothing()
    .returning({ fingerprint: idempotencyKeys.fingerprint, method: idempotencyKeys.method, path: idempotencyKeys.path });
  if (inserted[0]) return inserted[0];
  const [first] = await db
    .select({ fingerprint: idempotencyKeys.fingerprint, method: idempotencyKeys.method, path: idempotencyKeys.path })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.participantId, claim.participantId), eq(idempotencyKeys.key, claim.key)));
  return first!;
}
