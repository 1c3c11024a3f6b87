// A property-based fuzz suite generated from the live /openapi.json (issue 20): for every operation,
// fast-check builds requests from its documented parameters and body schema, valid-ish and hostile
// (control characters and NUL, odd unicode, very long values, numbers out of range, wrong types,
// missing fields, deep nesting, malformed JSON, other media types), and sends them one at a time
// with the admin key against the real stack. Every answer must be below 500, arrive (no reset, no
// hang), carry the documented error shape with a catalogue code when it is an error, and a refused
// request must leave the API's state as it was. Seeded and bounded: FUZZ_SEED and FUZZ_RUNS (per
// operation) reproduce or widen a run; the figures are printed at the end.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import { Errors } from '../../domain/errors/catalogue.js';
import type { Stack } from '../../app/wiring/stack.js';
import { apiClient, waitingFor } from '../support/api-client.js';
import { startTestStack, TEST_ADMIN_API_KEY, uniqueId } from '../support/env.js';
import { stateFingerprint } from '../support/side-effects.js';
import type { Fingerprint } from '../support/side-effects.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_2026);
const RUNS = Number(process.env.FUZZ_RUNS ?? 50);
/** A request that takes longer than this is a hang. */
const REQUEST_TIMEOUT_MS = 30_000;
const CODES = new Set(Object.keys(Errors));

type Schema = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  parameters: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
  body?: { type: string; schema: Schema; required: boolean };
}
interface FuzzRequest {
  path: string;
  query: Array<[string, string]>;
  headers: Record<string, string>;
  body?: { type: string; text?: string; form?: Array<[string, string, boolean]> };
}

let stack: Stack;
let document: { paths: Record<string, Record<string, any>>; components?: { schemas?: Record<string, Schema> } };
const api = apiClient(() => stack.apiUrl);
/** What valid path values point at: resources of this file's own, so valid requests harm nothing else. */
const own = { participant: '', keyId: '', part: '', contract: `fuzz-registry-${Date.now().toString(36)}` };

beforeAll(async () => {
  stack = await startTestStack();
  document = (await (await fetch(`${stack.apiUrl}/openapi.json`)).json()) as typeof document;
  const participant = await api.newParticipant(['manufacturer'], 'fuzz');
  own.participant = participant.id;
  own.keyId = String((await api.call('GET', `/participants/${participant.id}/api-keys`)).body.apiKeys[0].id);
  own.part = uniqueId('urn:test:fuzz');
  expect((await api.call('POST', '/parts', { id: own.part, lifecycle: 'part-basic' })).status).toBe(201);
  await api.untilPart(own.part, waitingFor('sold'));
  // The registry's reads and events only: no generated call can change the contract the stack runs on.
  const readOnly = partRegistryAbi.filter(
    (item) => item.type === 'event' || ('stateMutability' in item && item.stateMutability === 'view'),
  );
  const contract = await api.call('POST', '/contracts', { name: own.contract, address: stack.core.registry.address, abi: readOnly });
  expect(contract.status).toBe(201);
});
afterAll(async () => {
  await stack?.stop();
});

function operations(): Operation[] {
  const found: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const content = op.requestBody?.content ?? {};
      const type = Object.keys(content)[0];
      found.push({
        method: method.toUpperCase(),
        path,
        parameters: [...(item.parameters ?? []), ...(op.parameters ?? [])],
        body: type ? { type, schema: content[type].schema ?? {}, required: op.requestBody.required ?? false } : undefined,
      });
    }
  }
  return found;
}

// --- Hostile values

/** Stands in for a value nested this deep; replaced in the JSON text (JSON.stringify would recurse). */
const DEEP = '\u0001DEEP\u0001';
const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

const hostileString = fc.oneof(
  fc.constantFrom('a\u0000b', '\u0000', 'x\u0001y', 'tab\there', 'line\nbreak', '\u007f', '\u202e', '\ufeff', 'ü', '漢字', '😀', '', ' '),
  fc.constantFrom('x'.repeat(3000), '..', '.', '%', '%00', 'a/b', '../../etc/passwd', "'; drop table parts; --", '<script>'),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const hostileNumberText = fc.constantFrom(
  '99999999999999999999999',
  '-1',
  '0',
  '1e308',
  '-1e308',
  'NaN',
  'Infinity',
  '1.5',
  '0x10',
  ' 1',
  '2147483648',
);
const hostileJson = fc.oneof(
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, 1e23, -1, 0, 1.5, 2_147_483_648, null, true, false, [], {}, DEEP),
  hostileString,
  fc.jsonValue({ maxDepth: 3 }),
);

// --- Valid-ish values from a schema

function resolve(schema: Schema): Schema {
  const ref = schema?.$ref as string | undefined;
  return ref ? resolve(document.components!.schemas![ref.split('/').pop()!]!) : (schema ?? {});
}

function fromSchema(raw: Schema, depth = 0): fc.Arbitrary<unknown> {
  const schema = resolve(raw);
  if (depth > 4) return fc.constant(null);
  if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
  if ('const' in schema) return fc.constant(schema.const);
  const choices = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (choices) return fc.oneof(...choices.map((choice) => fromSchema(choice, depth + 1)));
  if (schema.allOf) return fromSchema(Object.assign({}, ...(schema.allOf as Schema[]).map(resolve)), depth);
  const type = Array.isArray(schema.type) ? schema.type.find((t: string) => t !== 'null') : schema.type;
  const example = schema.example === undefined ? [] : [fc.constant(schema.example)];
  switch (type ?? (schema.properties ? 'object' : undefined)) {
    case 'string': {
      let text: fc.Arbitrary<string> = fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 30, 30) });
      if (schema.format === 'uuid') text = fc.uuid();
      else if (schema.pattern) {
        try {
          text = fc.stringMatching(new RegExp(schema.pattern as string));
        } catch {
          // A pattern fast-check cannot generate from: free text it is.
        }
      }
      return example.length > 0 ? fc.oneof({ arbitrary: example[0]!, weight: 2 }, { arbitrary: text, weight: 1 }) : text;
    }
    case 'integer':
      return fc.oneof(...example, fc.integer({ min: Math.max(schema.minimum ?? -1000, -1e9), max: Math.min(schema.maximum ?? 1000, 1e9) }));
    case 'number':
      return fc.oneof(
        ...example,
        fc.double({ noNaN: true, noDefaultInfinity: true, min: schema.minimum ?? -1000, max: schema.maximum ?? 1000 }),
      );
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(fromSchema(schema.items ?? {}, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 3, 3),
      });
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const record = fc.record(Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, fromSchema(value, depth + 1)])), {
        requiredKeys: (schema.required ?? []).filter((key: string) => key in properties),
      });
      if (Object.keys(properties).length > 0 || !schema.additionalProperties) return record;
      return fc.dictionary(
        fc.string({ maxLength: 10 }),
        fromSchema(schema.additionalProperties === true ? {} : schema.additionalProperties, depth + 1),
        {
          maxKeys: 3,
        },
      );
    }
    default:
      return fc.oneof(...example, fc.jsonValue({ maxDepth: 2 }));
  }
}

// --- Requests

/** A value for a path parameter that names one of this file's own resources. */
function validPathValue(path: string, name: string): fc.Arbitrary<string> {
  if (path.startsWith('/parts/')) return fc.constant(name === 'id' ? own.part : 'sold');
  if (path.startsWith('/participants/')) return fc.constant(name === 'keyId' ? own.keyId : own.participant);
  if (path.startsWith('/lifecycles/')) return fc.constant(name === 'version' ? '1' : 'part-basic');
  if (path.startsWith('/contracts/')) return fc.constant(name === 'method' ? 'exists' : own.contract);
  return fc.uuid();
}

function encodePath(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return encodeURIComponent(value.replace(/[\ud800-\udfff]/g, '?')); // a lone surrogate has no UTF-8
  }
}

function queryValue(schema: Schema | undefined): fc.Arbitrary<string> {
  return fc.oneof(
    fromSchema(schema ?? {}).map((value) => (typeof value === 'string' ? value : (JSON.stringify(value) ?? ''))),
    hostileNumberText,
    hostileString,
  );
}

function bodyText(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replaceAll(JSON.stringify(DEEP), nested(10_000));
}

function jsonBodies(schema: Schema): fc.Arbitrary<FuzzRequest['body']> {
  const valid = fromSchema(schema);
  const asJson = (value: unknown) => ({ type: 'application/json', text: bodyText(value) });
  return fc.oneof(
    { weight: 3, arbitrary: valid.map(asJson) },
    // One field (declared or not) set to a hostile value.
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          valid,
          fc.oneof(fc.constantFrom(...Object.keys(resolve(schema).properties ?? { x: 0 })), fc.string({ maxLength: 8 })),
          hostileJson,
        )
        .map(([value, key, bad]) => asJson(value && typeof value === 'object' && !Array.isArray(value) ? { ...value, [key]: bad } : bad)),
    },
    // A required field missing.
    {
      weight: 1,
      arbitrary: valid.map((value) => {
        if (!value || typeof value !== 'object' || Array.isArray(value)) return asJson(value);
        const copy: Record<string, unknown> = { ...(value as object) };
        delete copy[(resolve(schema).required ?? [])[0] ?? Object.keys(copy)[0] ?? ''];
        return asJson(copy);
      }),
    },
    { weight: 2, arbitrary: hostileJson.map(asJson) },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(
          '{',
          '{"a":',
          'nul',
          '\u0000',
          '[1,]',
          '{"a":1}{"b":2}',
          '{"version":99999999999999999999999}',
          '',
          '   ',
          '"\\ud800"',
          nested(50_000),
        )
        .map((text) => ({
          type: 'application/json',
          text,
        })),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom('text/plain', 'application/x-www-form-urlencoded', 'application/xml')
        .map((type) => ({ type, text: 'a=1' })),
    },
  );
}

function multipartBodies(schema: Schema): fc.Arbitrary<FuzzRequest['body']> {
  const fields = Object.entries((resolve(schema).properties ?? {}) as Record<string, Schema>);
  const field = ([name, property]: [string, Schema]) =>
    fc.option(
      fc.tuple(
        fc.constant(name),
        fc.oneof(
          hostileString,
          fromSchema(property).map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? ''))),
        ),
        fc.constant(resolve(property).format === 'binary'),
      ),
      { nil: undefined },
    );
  return fc.oneof(
    fc.tuple(...fields.map(field)).map((form) => ({ type: 'multipart/form-data', form: form.filter((f) => f !== undefined) })),
    fc.constant({ type: 'application/json', text: '{}' }),
  );
}

function requests(op: Operation): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const headerParams = op.parameters.filter((p) => p.in === 'header');
  const path = fc
    .tuple(
      ...pathParams.map((p) =>
        fc.oneof({ weight: 3, arbitrary: validPathValue(op.path, p.name) }, { weight: 2, arbitrary: hostileString }),
      ),
    )
    .map((values) => pathParams.reduce((text, p, i) => text.replace(`{${p.name}}`, encodePath(values[i]!) || '%20'), op.path));
  const query = fc
    .tuple(
      ...queryParams.map((p) =>
        fc.option(
          queryValue(p.schema).map((value) => [p.name, value] as [string, string]),
          { nil: undefined },
        ),
      ),
      fc.option(fc.tuple(fc.constantFrom('unknown', 'limit', 'after', 'version'), hostileNumberText), { nil: undefined }),
    )
    .map((pairs) => pairs.filter((pair): pair is [string, string] => pair !== undefined));
  // Header values fetch can send: printable ASCII.
  const headers = fc
    .tuple(
      ...headerParams.map(() =>
        fc.option(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 300 }), {
          nil: undefined,
        }),
      ),
    )
    .map((values) => Object.fromEntries(headerParams.flatMap((p, i) => (values[i] === undefined ? [] : [[p.name, values[i]!]]))));
  const body = !op.body
    ? fc.constant(undefined)
    : op.body.type.startsWith('multipart/')
      ? multipartBodies(op.body.schema)
      : op.body.type === 'application/json'
        ? jsonBodies(op.body.schema)
        : fc.oneof(
            jsonBodies(op.body.schema),
            hostileString.map((text) => ({ type: op.body!.type, text })),
          );
  return fc.record({ path, query, headers, body });
}

// --- Sending and judging

const stats = { requests: 0, statuses: new Map<number, number>(), operations: new Set<string>(), refusedWrites: 0 };
let fingerprint: Fingerprint;

async function send(op: Operation, request: FuzzRequest): Promise<{ status: number; text: string }> {
  const search = new URLSearchParams(request.query).toString();
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_ADMIN_API_KEY}`, ...request.headers };
  let body: FormData | string | undefined;
  if (request.body?.form) {
    const form = new FormData();
    for (const [name, value, file] of request.body.form)
      form.append(name, file ? new Blob([value]) : value, file ? `${value.slice(0, 20) || 'f'}.txt` : undefined);
    body = form;
  } else if (request.body) {
    headers['content-type'] = request.body.type;
    body = request.body.text;
  }
  const response = await fetch(`${stack.apiUrl}${request.path}${search ? `?${search}` : ''}`, {
    method: op.method,
    headers,
    body,
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  // A stream that opened is an answer: close it rather than wait for its end.
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    await response.body?.cancel();
    return { status: response.status, text: '' };
  }
  return { status: response.status, text: await response.text() };
}

/** Throws when the answer breaks a rule; fast-check then shrinks the request. */
async function judge(op: Operation, request: FuzzRequest): Promise<void> {
  const label = `${op.method} ${request.path}?${new URLSearchParams(request.query)} ${JSON.stringify(request.body)?.slice(0, 300)}`;
  let answer: { status: number; text: string };
  try {
    answer = await send(op, request);
  } catch (error) {
    throw new Error(`${label}: no answer (${(error as Error).message}; ${String((error as { cause?: unknown }).cause)})`);
  }
  stats.requests += 1;
  stats.operations.add(`${op.method} ${op.path}`);
  stats.statuses.set(answer.status, (stats.statuses.get(answer.status) ?? 0) + 1);
  if (answer.status >= 500) throw new Error(`${label}: ${answer.status} ${answer.text.slice(0, 300)}`);
  if (answer.status >= 400) {
    let error: { code?: unknown; message?: unknown } | undefined;
    try {
      error = (JSON.parse(answer.text) as { error?: typeof error }).error;
    } catch {
      // not JSON: reported below
    }
    if (typeof error?.code !== 'string' || !CODES.has(error.code) || typeof error.message !== 'string') {
      throw new Error(`${label}: ${answer.status} without the documented error shape: ${answer.text.slice(0, 300)}`);
    }
  }
  // Only requests that may write are fingerprinted; the state between two of them is the one before the next.
  if (op.method === 'GET') return;
  const after = await stateFingerprint(stack.core.database.db);
  if (answer.status >= 400) {
    stats.refusedWrites += 1;
    const changed = Object.keys(after).filter((key) => after[key] !== fingerprint[key]);
    if (changed.length > 0) throw new Error(`${label}: refused with ${answer.status} but changed ${changed.join(', ')}`);
  }
  fingerprint = after;
}

describe('fuzz: every operation of /openapi.json', () => {
  it('answers generated valid-ish and hostile requests below 500, in the documented error shape, and refused ones change nothing', async () => {
    const ops = operations();
    expect(ops.length).toBeGreaterThan(40);
    console.log(`fuzz: seed ${SEED}, ${RUNS} runs per operation, ${ops.length} operations`);
    fingerprint = await stateFingerprint(stack.core.database.db);
    const started = Date.now();
    const slowest: Array<[string, number]> = [];
    for (const [index, op] of ops.entries()) {
      const opStarted = Date.now();
      await fc.assert(
        fc.asyncProperty(requests(op), (request) => judge(op, request)),
        { seed: SEED + index, numRuns: RUNS, endOnFailure: true },
      );
      slowest.push([`${op.method} ${op.path}`, Date.now() - opStarted]);
    }
    slowest.sort((a, b) => b[1] - a[1]);
    const histogram = [...stats.statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`);
    const fiveXx = [...stats.statuses].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0);
    console.log(
      `fuzz: ${stats.requests} requests over ${stats.operations.size} operations in ${Math.round((Date.now() - started) / 1000)} s; ` +
        `statuses {${histogram.join(', ')}}; 5xx: ${fiveXx}; refused writes checked unchanged: ${stats.refusedWrites}; ` +
        `slowest: ${slowest
          .slice(0, 5)
          .map(([op, ms]) => `${op} ${ms} ms`)
          .join(', ')}`,
    );
    expect(stats.operations.size).toBe(ops.length);
    expect(fiveXx).toBe(0);
  }, 600_000);
});
