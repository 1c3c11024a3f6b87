// Route definitions that are also the API's documentation. Every route is declared with
// `@hono/zod-openapi`'s createRoute: its zod schemas validate the request (400 naming each field)
// and generate `/openapi.json`, so the document cannot drift from what the server accepts.
import { OpenAPIHono, z } from '@hono/zod-openapi';
import type { Hook, RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { ApiError } from './errors.js';

const INVALID_CODE = { json: 'invalid_request', query: 'invalid_query', param: 'invalid_path', header: 'invalid_header', cookie: 'invalid_request', form: 'invalid_request' } as const;
const WHERE = { json: '(body)', query: '(query)', param: '(path)', header: '(headers)', cookie: '(cookies)', form: '(form)' } as const;

/** A failed validation answers 400 with a code for where it failed and one issue per field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a hook for every route's input
const rejectInvalid: Hook<any, any, any, any> = (result) => {
  if (result.success) return;
  const target = result.target as keyof typeof INVALID_CODE;
  const issues = result.error.issues.map((issue) => ({ field: issue.path.join('.') || WHERE[target], message: issue.message }));
  // A bad header is named in the code (`invalid_idempotency_key`): clients branch on it.
  const code = target === 'header' && issues.length === 1 ? `invalid_${issues[0]!.field.replace(/-/g, '_')}` : INVALID_CODE[target];
  throw new ApiError(400, code, issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
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

const JSON_MEDIA = /^application\/([a-z-.]+\+)?json(;|$)/i;

/**
 * A JSON request body. Its route gets a guard that runs before validation: malformed JSON answers
 * 400 `invalid_json`, a body sent as another media type 415 (so `curl -d` without a content type is
 * told what to send rather than validated as `{}`), and an absent body is taken as `{}`. An optional
 * body may arrive unvalidated as `{}`, so its schema's defaults must not matter.
 */
export function jsonBody<S extends z.ZodTypeAny>(schema: S, options: { required?: boolean; description?: string } = {}) {
  return { content: { 'application/json': { schema } }, required: options.required ?? true, description: options.description };
}

export const guardJsonBody: MiddlewareHandler = async (c, next) => {
  const type = c.req.header('content-type');
  if (!(await hasBody(c.req.raw))) {
    c.req.bodyCache.json = Promise.resolve({}); // validated as `{}`: the schema names what is required
  } else if (!type || !JSON_MEDIA.test(type)) {
    throw new ApiError(415, 'unsupported_media_type', `send the body as JSON with "content-type: application/json"${type ? ` (got "${type}")` : ''}`);
  } else {
    try {
      await c.req.json(); // cached for the validator
    } catch {
      throw new ApiError(400, 'invalid_json', 'the request body is not valid JSON');
    }
  }
  await next();
};

async function hasBody(request: Request): Promise<boolean> {
  const length = request.headers.get('content-length');
  if (length !== null) return Number(length) > 0;
  if (!request.body) return false;
  return (await request.clone().arrayBuffer()).byteLength > 0;
}

/**
 * createRoute, with the JSON-body guard on routes whose JSON body has a zod schema. The route's own
 * middleware (e.g. `roleRequired`) runs first, so a caller without the role gets 403, not 400.
 */
export function route<R extends RouteConfig>(config: R): R {
  const body = config.request?.body?.content?.['application/json'];
  if (!(body?.schema instanceof z.ZodType)) return config;
  const middleware = config.middleware === undefined ? [] : Array.isArray(config.middleware) ? config.middleware : [config.middleware];
  return { ...config, middleware: [...middleware, guardJsonBody] };
}
