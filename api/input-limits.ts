// The limits every request meets at the edge, before any handler runs (documented in docs/api.md,
// "Limits"): no control characters in path segments and query values, no NUL in JSON strings
// (PostgreSQL text and jsonb cannot hold U+0000), JSON nested at most MAX_JSON_DEPTH levels (deeper
// payloads overflow the converters behind the API), and numbers within what their columns hold.
import { z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { durationSchema } from '../domain/lifecycles/duration-schema.js';

/** The deepest JSON a body may nest (objects and arrays): real payloads stay far below it. */
export const MAX_JSON_DEPTH = 64;
/** The largest version number (versions are stored as PostgreSQL `integer`). */
export const MAX_VERSION = 2_147_483_647;
/** The longest age or window a duration filter takes: 3650 days, in milliseconds. */
export const MAX_DURATION_MS = 3650 * 86_400_000;
/** The highest block number a query takes: an exact JavaScript number. */
export const MAX_BLOCK = Number.MAX_SAFE_INTEGER;

// C0 controls and DEL: no id, name or filter value has a use for them, and U+0000 breaks SQL.
// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL = /[\u0000-\u001f\u007f]/;

interface Problem {
  field: string;
  message: string;
}

function controlProblem(text: string): string | undefined {
  const found = CONTROL.exec(text);
  if (!found) return undefined;
  const code = found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `control character U+${code} is not allowed`;
}

function refuse(entry: typeof Errors.invalid_path | typeof Errors.invalid_query | typeof Errors.invalid_request, problems: Problem[]) {
  return new CodedError(entry, { problems: problems.map((p) => `${p.field}: ${p.message}`).join('; ') }, problems);
}

/** Percent-decoded, as the router hands it to routes; a malformed escape stays as sent (the router's way too). */
function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * Refuses a path segment, query name or query value with a control character: 400 `invalid_path` or
 * `invalid_query`, for every route at once, before authentication touches the database.
 */
export const refuseControlCharacters: MiddlewareHandler = async (c, next) => {
  const url = new URL(c.req.url);
  const pathProblems: Problem[] = [];
  for (const segment of url.pathname.split('/')) {
    const problem = controlProblem(decoded(segment));
    if (problem) pathProblems.push({ field: `(path) ${JSON.stringify(decoded(segment))}`, message: problem });
  }
  if (pathProblems.length > 0) throw refuse(Errors.invalid_path, pathProblems);
  const queryProblems: Problem[] = [];
  for (const [name, value] of url.searchParams) {
    const problem = controlProblem(name) ?? controlProblem(value);
    if (problem) queryProblems.push({ field: JSON.stringify(name).slice(1, -1), message: problem });
  }
  if (queryProblems.length > 0) throw refuse(Errors.invalid_query, queryProblems);
  await next();
};

interface Node {
  value: unknown;
  depth: number;
  key: string;
  parent: Node | undefined;
}

function pathOf(node: Node): string {
  const keys: string[] = [];
  for (let at: Node | undefined = node; at?.parent; at = at.parent) keys.unshift(at.key);
  return keys.join('.') || '(body)';
}

/**
 * What a parsed JSON value breaks: nesting deeper than MAX_JSON_DEPTH, or a string (value or key)
 * holding U+0000. Walked with an explicit stack, so a 50,000-level body cannot overflow the check.
 */
export function unstorableJson(root: unknown): Problem[] {
  const problems: Problem[] = [];
  const stack: Node[] = [{ value: root, depth: 0, key: '', parent: undefined }];
  while (stack.length > 0 && problems.length < 10) {
    const node = stack.pop()!;
    const { value } = node;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) problems.push({ field: pathOf(node), message: 'U+0000 (NUL) cannot be stored' });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    const depth = node.depth + 1;
    if (depth > MAX_JSON_DEPTH) {
      problems.push({ field: pathOf(node), message: `nested deeper than ${MAX_JSON_DEPTH} levels` });
      continue;
    }
    for (const [key, child] of Object.entries(value)) {
      const childNode = { value: child, depth, key, parent: node };
      if (key.includes('\u0000')) problems.push({ field: pathOf(childNode), message: 'U+0000 (NUL) in a key cannot be stored' });
      else stack.push(childNode);
    }
  }
  return problems;
}

/** Throws 400 `invalid_request` naming each place a parsed JSON body breaks a limit. */
export function assertStorableJson(value: unknown): void {
  const problems = unstorableJson(value);
  if (problems.length > 0) throw refuse(Errors.invalid_request, problems);
}

/** A version number in a JSON body: a positive integer a PostgreSQL `integer` holds. */
export const versionNumber = () => z.number().int().positive().max(MAX_VERSION, `at most ${MAX_VERSION}`);

/** A version number in a query string. */
export const versionQuery = () => z.coerce.number().int().positive().max(MAX_VERSION, `at most ${MAX_VERSION}`);

/** A duration (`500ms`, `30s`, `5m`, `1h`, `2d`, or a bare number of milliseconds) of at most 3650 days, in milliseconds. */
export const boundedDuration = () => durationSchema.pipe(z.number().max(MAX_DURATION_MS, 'at most 3650d'));

const BLOCK_RULE = `a block number from 0 to ${MAX_BLOCK}`;

/** A block number in a query string: decimal digits up to MAX_BLOCK, as a bigint. */
export const blockNumberQuery = () =>
  z
    .string()
    .regex(/^[0-9]{1,16}$/, BLOCK_RULE)
    .refine((text) => Number(text) <= MAX_BLOCK, BLOCK_RULE)
    .transform(BigInt);

/** A block number, or `latest`. */
export const toBlockQuery = () =>
  z
    .string()
    .refine((text) => text === 'latest' || (/^[0-9]{1,16}$/.test(text) && Number(text) <= MAX_BLOCK), `${BLOCK_RULE}, or latest`)
    .transform((text) => (text === 'latest' ? ('latest' as const) : BigInt(text)));
