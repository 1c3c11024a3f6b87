// What the ops, ledger and gateway routes share: the request's idempotency key, bound to the request
// that first used it. As the IETF Idempotency-Key draft asks, a key sent again with a different
// request (method, path or body) is refused with 422, not answered with the first request's result;
// the same request sent again, even at the same moment, is one action answered with one response.
import { createHash, randomUUID } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Db } from '../db/client.js';
import { completeIdempotencyKey, releaseIdempotencyKey, renewIdempotencyKey, reserveIdempotencyKey } from '../db/idempotency-keys.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { actingParticipant } from './auth.js';
import { errorResponse } from './error-response.js';

/** The `Idempotency-Key` header, for the routes that take one (a bad key answers 400 `invalid_idempotency_key`). */
export const IdempotencyKeyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\w.:-]{1,200}$/, '1 to 200 letters, digits and . : - _')
    .optional()
    .openapi({
      description:
        'A repeated request with the same key is one action, answered as the first was (`idempotent-replayed: true`), even when sent at the same moment (it waits for the first; 409 `idempotency_key_in_use` with Retry-After if that runs on); the same key with another method, path or body answers 422 `idempotency_key_reused`',
      example: 'order-4711',
    }),
});

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are one body. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** SHA-256 of method, path and the canonical body (the raw text when it is not JSON). */
export function requestFingerprint(method: string, path: string, body: string): string {
  let canonical = body;
  if (body) {
    try {
      canonical = canonicalJson(JSON.parse(body));
    } catch {
      // Not JSON: the bytes themselves are the body.
    }
  }
  return createHash('sha256').update(`${method.toUpperCase()}\n${path}\n${canonical}`, 'utf8').digest('hex');
}

export interface IdempotencyTiming {
  /** How long a holder's reservation lasts unless renewed (it is renewed at a third of it while the work runs). */
  leaseMs: number;
  /** How long a concurrent repeat waits for the holder's response before answering 409 `idempotency_key_in_use`. */
  waitMs: number;
}

/**
 * A gateway write or a short ledger workflow finishes in seconds; a repeat waits that long for it.
 * A holder that died frees its keys after the lease.
 */
export const IDEMPOTENCY_TIMING: IdempotencyTiming = { leaseMs: 30_000, waitMs: 10_000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` once per `Idempotency-Key` (validated by its route with IdempotencyKeyHeader), even
 * when repeats arrive at once: the key is reserved in SQL before the work starts, and a repeat of
 * the same request waits for the first one's response and answers with it (`idempotent-replayed:
 * true`), or 409 `idempotency_key_in_use` with Retry-After when it still runs after
 * `timing.waitMs`. The same key with another request answers 422 `idempotency_key_reused`. Only a
 * success is stored: when the work fails the key is freed, so a retry does the work again (every
 * action is idempotent by its key underneath). Without the header, `work` just runs.
 */
export async function idempotent<R extends Response>(
  c: Context,
  db: Db,
  work: (key: string | undefined) => Promise<R>,
  timing: IdempotencyTiming = IDEMPOTENCY_TIMING,
): Promise<R> {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return work(undefined);
  // Hono keeps the body the validator read; a body-less request reads as ''.
  const body = await c.req.text();
  const { method, path } = c.req;
  const participantId = actingParticipant(c).id;
  const fingerprint = requestFingerprint(method, path, body);
  const holder = randomUUID();
  const deadline = Date.now() + timing.waitMs;
  for (let pause = 25; ; pause = Math.min(pause * 2, 250)) {
    const found = await reserveIdempotencyKey(db, { participantId, key, fingerprint, method, path }, holder, timing.leaseMs);
    if (found.kind === 'reserved') return holdWhileWorking(db, participantId, key, holder, timing, () => work(key));
    if (found.kind === 'mismatch') {
      const { first } = found;
      const what = first.method === method && first.path === path ? 'with another body' : `for ${first.method} ${first.path}`;
      throw new CodedError(Errors.idempotency_key_reused, { key, what });
    }
    if (found.kind === 'replay') {
      const { status, contentType, body: stored } = found.response;
      const headers = { 'idempotent-replayed': 'true', ...(contentType ? { 'content-type': contentType } : {}) };
      return new Response(stored, { status, headers }) as R;
    }
    if (Date.now() >= deadline) {
      const retryAfter = Math.max(1, Math.min(Math.ceil(found.remainingMs / 1000), Math.ceil(timing.waitMs / 1000)));
      const response = errorResponse(c, new CodedError(Errors.idempotency_key_in_use, { key, retryAfter }));
      response.headers.set('retry-after', String(retryAfter));
      return response as R;
    }
    await sleep(Math.min(pause, Math.max(0, deadline - Date.now())));
  }
}

/** Runs the work while renewing the lease; stores a success for the repeats, frees the key on a failure. */
async function holdWhileWorking<R extends Response>(
  db: Db,
  participantId: string,
  key: string,
  holder: string,
  timing: IdempotencyTiming,
  work: () => Promise<R>,
): Promise<R> {
  const renewal = setInterval(() => {
    renewIdempotencyKey(db, participantId, key, holder, timing.leaseMs).catch(() => {
      // The next renewal tries again; a lapsed lease only lets a repeat do the (idempotent) work too.
    });
  }, timing.leaseMs / 3);
  try {
    const response = await work();
    if (response.status >= 200 && response.status < 300) {
      const body = await response.clone().text();
      await completeIdempotencyKey(db, participantId, key, holder, {
        status: response.status,
        contentType: response.headers.get('content-type'),
        body,
      });
    } else {
      await releaseIdempotencyKey(db, participantId, key, holder);
    }
    return response;
  } catch (error) {
    await releaseIdempotencyKey(db, participantId, key, holder).catch(() => {
      // The lease lapses on its own; the request's own error is the one to answer with.
    });
    throw error;
  } finally {
    clearInterval(renewal);
  }
}
