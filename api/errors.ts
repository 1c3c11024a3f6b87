// API errors: every failure answers `{ error: { code, message, details? } }` with a fitting status.
import type { Context } from 'hono';
import type { z } from 'zod';
import { CommandRefused } from '../commands/errors.js';

/** An HTTP-only refusal (bad JSON, a bad query); commands shared with the intake throw CommandRefused. */
export class ApiError extends CommandRefused {
  override name = 'ApiError';
}

export function errorResponse(c: Context, error: CommandRefused): Response {
  const body = { error: { code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) } };
  return c.json(body, error.status);
}

/** Reads and validates a JSON body: 400 `invalid_json` or 400 `invalid_request` naming each field. */
export async function readJson<S extends z.ZodTypeAny>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw new ApiError(400, 'invalid_json', 'the request body is not valid JSON');
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({ field: issue.path.join('.') || '(body)', message: issue.message }));
    throw new ApiError(400, 'invalid_request', issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
  }
  return result.data;
}

/** An optional JSON body: `{}` when the request has none. */
export async function readOptionalJson<S extends z.ZodTypeAny>(c: Context, schema: S): Promise<z.infer<S>> {
  const length = c.req.header('content-length');
  if (length === '0' || (length === undefined && !c.req.header('content-type'))) return schema.parse({});
  return readJson(c, schema);
}

/** Reads and validates the query string: 400 `invalid_query` naming each parameter. */
export function readQuery<S extends z.ZodTypeAny>(c: Context, schema: S): z.infer<S> {
  const result = schema.safeParse(c.req.query());
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({ field: issue.path.join('.') || '(query)', message: issue.message }));
    throw new ApiError(400, 'invalid_query', issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
  }
  return result.data;
}
