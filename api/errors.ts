// API errors: every failure answers `{ error: { code, message, details? } }` with a fitting status.
import type { Context } from 'hono';
import { CommandRefused } from '../domain/commands/errors.js';

/** An HTTP-only refusal (bad JSON, bad input, a missing role); commands shared with the intake throw CommandRefused. */
export class ApiError extends CommandRefused {
  override name = 'ApiError';
}

export function errorResponse(c: Context, error: CommandRefused): Response {
  const body = { error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } };
  return c.json(body, error.status);
}
