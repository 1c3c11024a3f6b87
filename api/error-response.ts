// API errors: every failure answers `{ error: { code, message, details? } }` with the status its
// catalogue entry gives (domain/errors/catalogue.ts); anything uncoded is a 500 `internal_error`.
import type { Context } from 'hono';
import type { CodedError } from '../domain/errors/coded-error.js';

export function errorResponse(c: Context, error: CodedError): Response {
  return c.json({ error: error.toJSON() }, error.status);
}
