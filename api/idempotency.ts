// What the ops and ledger routes share: the request's idempotency key, bound to the request that
// first used it. As the IETF Idempotency-Key draft asks, a key sent again with a different request
// (method, path or body) is refused with 422, not answered with the first request's result.
import { createHash } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { Db } from '../db/client.js';
import { claimIdempotencyKey } from '../db/idempotency-keys.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { actingParticipant } from './auth.js';

/** The `Idempotency-Key` header, for the routes that take one (a bad key answers 400 `invalid_idempotency_key`). */
export const IdempotencyKeyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\w.:-]{1,200}$/, '1 to 200 letters, digits and . : - _')
    .optional()
    .openapi({
      description:
        'A repeated request with the same key is one action, answered as the first was; the same key with another method, path or body answers 422 `idempotency_key_reused`',
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

/**
 * The request's `Idempotency-Key` (validated by its route with IdempotencyKeyHeader), recorded for
 * the acting participant with the request's fingerprint; 422 `idempotency_key_reused` when the
 * participant used it before for another request.
 */
export async function idempotencyKeyOf(c: Context, db: Db): Promise<string | undefined> {
  const key = c.req.header('idempotency-key');
  if (key === undefined) return undefined;
  // Hono keeps the body the validator read; a body-less request reads as ''.
  const body = await c.req.text();
  const method = c.req.method;
  const path = c.req.path;
  const fingerprint = requestFingerprint(method, path, body);
  const first = await claimIdempotencyKey(db, { participantId: actingParticipant(c).id, key, fingerprint, method, path });
  if (first.fingerprint !== fingerprint) {
    const what = first.method === method && first.path === path ? 'with another body' : `for ${first.method} ${first.path}`;
    throw new CodedError(Errors.idempotency_key_reused, { key, what });
  }
  return key;
}
