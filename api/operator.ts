// What the ops and ledger routes share: the request's idempotency key, and the HTTP status of each
// refusal of an operator action.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { OperatorError } from '../domain/commands/operator-errors.js';
import type { OperatorErrorCode } from '../domain/commands/operator-errors.js';
import { ApiError } from './errors.js';

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

const STATUS: Record<OperatorErrorCode, ContentfulStatusCode> = {
  part_not_found: 404,
  part_not_active: 409,
  part_not_parked: 409,
  part_completed: 409,
  step_not_failed: 409,
  invalid_decision: 422,
  invalid_step_params: 422,
  invalid_reset_point: 422,
};

/** Runs an operator action, answering its refusals with their status and code. */
export async function asApiErrors<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof OperatorError) throw new ApiError(STATUS[error.code], error.code, error.message, error.details);
    throw error;
  }
}
