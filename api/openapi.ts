// Route definitions that are also the API's documentation. Every route is declared with
// `@hono/zod-openapi`'s createRoute: its zod schemas validate the request (400 naming each field)
// and generate `/openapi.json`, so the document cannot drift from what the server accepts.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Hook, RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { CodedError } from '../domain/errors/coded-error.js';
import { entryFor, Errors } from '../domain/errors/catalogue.js';
import type { ErrorEntry } from '../domain/errors/coded-error.js';
import { assertStorableJson } from './input-limits.js';

const INVALID_CODE = {
  json: Errors.invalid_request,
  query: Errors.invalid_query,
  param: Errors.invalid_path,
  header: Errors.invalid_header,
} as const;

/** The entries that answer invalid input, each with one `{problems}` parameter. */
type InvalidInputEntry = ErrorEntry<string, '{problems}'>;

/** A bad header the catalogue names (`invalid_idempotency_key`: clients branch on it), else `invalid_header`. */
function headerEntry(header: string): InvalidInputEntry {
  const entry = entryFor(`invalid_${header.replace(/-/g, '_')}`);
  return entry?.message === '{problems}' ? (entry as InvalidInputEntry) : Errors.invalid_header;
}
const WHERE = { json: '(body)', query: '(query)', param: '(path)', header: '(headers)' } as const;

/** 400 with one `{ field, message }` per issue, the message listing them all. */
export function invalidInput(entry: InvalidInputEntry, issues: z.ZodIssue[], where: string): CodedError {
  const fields = issues.map((issue) => ({ field: issue.path.join('.') || where, message: issue.message }));
  return new CodedError(entry, { problems: fields.map((i) => `${i.field}: ${i.message}`).join('; ') }, fields);
}

/** A failed validation answers 400 with a code for where it failed and one issue per field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a hook for every route's input
const rejectInvalid: Hook<any, any, any, any> = (result) => {
  if (result.success) return;
  const target = result.target as keyof typeof INVALID_CODE;
  const issues = result.error.issues;
  // A bad header is named in the code (`invalid_idempotency_key`): clients branch on it.
  const header = target === 'header' && issues.length === 1 && issues[0]!.path.length > 0 ? String(issues[0]!.path[0]) : undefined;
  throw invalidInput(header ? headerEntry(header) : INVALID_CODE[target], issues, WHERE[target]);
};

/** A router whose routes document themselves and answer invalid input with the API's error shape. */
export function apiRouter(): OpenAPIHono {
  return new OpenAPIHono({ defaultHook: rejectInvalid });
}

/** The body of every error: `{ error: { code, message, details? } }`. */
export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ description: 'Machine-readable: what went wrong', example: 'invalid_request' }),
      message: z.string().openapi({ description: 'What went wrong and what to do about it' }),
      details: z.unknown().optional().openapi({ description: 'Structured detail, e.g. `[{ field, message }]` for invalid input' }),
    }),
  })
  .openapi('Error');

const STATUS_TEXT: Record<number, string> = {
  400: 'Invalid input: the error names each field',
  401: 'No API key, or one that is unknown or revoked',
  403: 'The participant lacks the role this needs',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'Too large',
  415: 'The body is not of a media type this route takes',
  422: 'Well-formed but refused',
  502: 'The chain or another upstream failed',
  503: 'A backing service is unavailable; try again later',
};

/** Error responses, each with the shared error body; a string overrides the description. */
export function errors(...statuses: Array<number | [number, string]>): RouteConfig['responses'] {
  return Object.fromEntries(
    statuses.map((entry) => {
      const [status, description] = Array.isArray(entry) ? entry : [entry, STATUS_TEXT[entry] ?? 'Refused'];
      return [status, { description, content: { 'application/json': { schema: ErrorSchema } } }];
    }),
  );
}

/** A JSON response. */
export function jsonResponse<S extends z.ZodTypeAny>(schema: S, description: string) {
  return { description, content: { 'application/json': { schema } } };
}

// As strict as both checks after it (Hono's validator, and zod-openapi's for optional bodies), so a
// body the guard lets through is always the one validated.
const JSON_MEDIA = /^application\/([a-z.-]+\+)?json\s*(;.*)?$/;

/**
 * A JSON request body. Its route gets a guard that runs before validation: malformed JSON answers
 * 400 `invalid_json`, JSON nested too deep or holding U+0000 400 `invalid_request` (input-limits.ts), a body sent as another media type 415 (so `curl -d` without a content type is
 * told what to send rather than validated as `{}`), and an absent body is validated as `{}` (so the
 * error names the required fields). An optional body is for schemas that `{}` satisfies.
 */
export function jsonBody<S extends z.ZodTypeAny>(schema: S, options: { required?: boolean; description?: string } = {}) {
  return { content: { 'application/json': { schema } }, required: options.required ?? true, description: options.description };
}

export const guardJsonBody: MiddlewareHandler = async (c, next) => {
  const type = c.req.header('content-type');
  if (type !== undefined && JSON_MEDIA.test(type)) {
    // The validator parses the cached text: an empty body is cached as `{}` (Hono caches the
    // promise, though its type says the value).
    const text = await c.req.text();
    if (text.trim() === '') (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve('{}');
    else assertStorableJson(parsedJson(text));
  } else if (!(await isEmpty(c.req.raw))) {
    throw new CodedError(Errors.unsupported_media_type, { got: type ? ` (got "${type}")` : '' });
  }
  await next();
};

/** Whether a request that is not JSON has no body: its length says so, or its stream ends without a byte. */
async function isEmpty(request: Request): Promise<boolean> {
  const length = request.headers.get('content-length');
  if (length !== null) return Number(length) === 0;
  if (!request.body) return true;
  // Neither header (curl -X POST with no data) still comes as a stream: read until a byte. The body
  // is refused if there is one, so consuming it loses nothing.
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return true;
    if (value.byteLength > 0) {
      await reader.cancel();
      return false;
    }
  }
}

function parsedJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CodedError(Errors.invalid_json);
  }
}

/** Every route with a body may answer 413: the body limit (api/body-limit.ts), or the payload limit of commands. */
const TOO_LARGE = 'The body is over the size limit (`body_too_large`), or a value sent on to the workflow is (`payload_too_large`)';

/**
 * createRoute, with the JSON-body guard (and its 415) on routes whose JSON body has a zod schema,
 * and a 413 on every route that takes a body (a route may describe its own).
 * The route's own middleware (e.g. `roleRequired`) runs first: a caller without the role gets 403.
 */
export function route<R extends RouteConfig>(config: R): R {
  const content = config.request?.body?.content;
  if (!content) return config;
  const responses = { ...errors([413, TOO_LARGE]), ...config.responses };
  const body = content['application/json'];
  if (!(body?.schema instanceof z.ZodType)) return { ...config, responses };
  const middleware = config.middleware === undefined ? [] : Array.isArray(config.middleware) ? config.middleware : [config.middleware];
  return { ...config, middleware: [...middleware, guardJsonBody], responses: { ...errors(415), ...responses } };
}
