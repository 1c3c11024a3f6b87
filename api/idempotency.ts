// What the ops and ledger routes share: the request's idempotency key.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';

/** The `Idempotency-Key` header, for the routes that take one (a bad key answers 400 `invalid_idempotency_key`). */
export const IdempotencyKeyHeader = z.object({
  'idempotency-key': z
    .string()
    .regex(/^[\w.:-]{1,200}$/, '1 to 200 letters, digits and . : - _')
    .optional()
    .openapi({ description: 'A repeated request with the same key is one action, answered as the first was', example: 'order-4711' }),
});

/** The request's `Idempotency-Key`, which its route validated with IdempotencyKeyHeader. */
export function idempotencyKeyOf(c: Context): string | undefined {
  return c.req.header('idempotency-key');
}
