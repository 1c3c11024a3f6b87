// /lifecycles: publish lifecycle definitions (YAML or JSON) as immutable versions and read them back.
import { z } from '@hono/zod-openapi';
import { defaultVersionOf, getLifecycle, listLifecycleVersions, listLifecycles } from '../db/lifecycles.js';
import type { LifecycleRow } from '../db/lifecycles.js';
import { lifecycleJsonSchema, SCHEMA_ID } from '../domain/lifecycles/json-schema.js';
import { parseLifecycle } from '../domain/lifecycles/load.js';
import { lifecycleNotFound } from '../domain/lifecycles/not-found.js';
import { publishDefinition } from '../domain/lifecycles/publish.js';
import { formatProblem } from '../domain/lifecycles/validate.js';
import { API_ROLES, roleRequired } from './auth.js';
import type { ApiDeps } from './deps.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { apiRouter, errors, jsonResponse, route } from './openapi.js';
import { assertStorableJson } from './input-limits.js';

const SOURCE = 'request body';

/** One version as the API shows it; `default` says whether new parts start on it. */
export function versionSummary(row: LifecycleRow, defaultVersion: number | undefined) {
  return {
    name: row.name,
    version: row.version,
    default: row.version === defaultVersion,
    deprecatedAt: row.deprecatedAt,
    contentHash: row.contentHash,
    source: row.source,
    createdAt: row.createdAt,
  };
}

function full(row: LifecycleRow, defaultVersion: number | undefined) {
  return { ...versionSummary(row, defaultVersion), definition: row.definition, compiled: row.compiled };
}

export function versionParam(text: string): number {
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new CodedError(Errors.invalid_version, { text });
  return Number(text);
}

const DEFINITION = 'LifecycleDefinition';
const componentRef = (name: string) => `#/components/schemas/${name}`;

/**
 * The lifecycle JSON Schema as OpenAPI 3.1 components: the root as `LifecycleDefinition`, each
 * `$defs` entry as a component of its own, refs pointed at them. Embedded as is, its `$id` would
 * rebase and its `#/$defs/…` refs would resolve against the OpenAPI document and break.
 */
function lifecycleSchemaComponents(): Record<string, Record<string, unknown>> {
  const {
    $schema: _schema,
    $id: _id,
    $defs,
    ...root
  } = lifecycleJsonSchema() as Record<string, unknown> & { $defs?: Record<string, unknown> };
  const names = new Map(Object.keys($defs ?? {}).map((name) => [name, `${DEFINITION}_${name.replace(/[^\w.-]/g, '_')}`]));
  const refOf = (ref: string): string => {
    const local = ref.startsWith(SCHEMA_ID) ? ref.slice(SCHEMA_ID.length) || '#' : ref;
    if (!local.startsWith('#')) return ref;
    const defs = /^#\/\$defs\/([^/]+)(.*)$/.exec(local);
    if (!defs) return componentRef(DEFINITION) + local.slice(1);
    const name = names.get(defs[1]!.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (!name) throw new Error(`lifecycle JSON Schema: unresolvable $ref "${ref}"`);
    return componentRef(name) + defs[2];
  };
  // `$schema`/`$id` keywords carry strings; a property named so (the definition's own `$schema`) is a schema object.
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (!value || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).flatMap(([key, inner]) => {
        if (typeof inner === 'string' && key === '$ref') return [[key, refOf(inner)]];
        if (typeof inner === 'string' && (key === '$schema' || key === '$id')) return [];
        return [[key, rewrite(inner)]];
      }),
    );
  };
  return Object.fromEntries([
    [DEFINITION, rewrite(root) as Record<string, unknown>],
    ...Object.entries($defs ?? {}).map(([name, schema]) => [names.get(name)!, rewrite(schema) as Record<string, unknown>]),
  ]);
}

export const LifecycleSummarySchema = z
  .object({
    name: z.string().openapi({ example: 'part-basic' }),
    version: z.number().int().openapi({ example: 1 }),
    default: z.boolean().openapi({ description: 'Whether new parts start on this version when their request names none' }),
    deprecatedAt: z
      .string()
      .nullable()
      .openapi({ description: 'ISO time it was deprecated (no new part starts on it; running parts finish), or null' }),
    contentHash: z.string().openapi({ description: 'SHA-256 of the canonical definition: the same content is the same version' }),
    source: z.string().openapi({ description: 'Where it came from: a file name under lifecycles/, or `api`', example: 'api' }),
    createdAt: z.string().openapi({ description: 'ISO time' }),
  })
  .openapi('LifecycleSummary');

const LifecycleVersionSchema = LifecycleSummarySchema.extend({
  definition: z.record(z.unknown()).openapi({ description: `The definition as published (the ${DEFINITION} format, with its version)` }),
  compiled: z.record(z.unknown()).openapi({ description: 'The compiled form its workflows run' }),
}).openapi('LifecycleVersion');

const LifecycleListSchema = z
  .object({
    lifecycles: z
      .array(LifecycleSummarySchema.extend({ latest: z.number().int().openapi({ description: 'The highest version published' }) }))
      .openapi({ description: 'Each name with its default version' }),
  })
  .openapi('LifecycleList');

const LifecycleVersionsSchema = z
  .object({
    name: z.string(),
    default: z.number().int().openapi({ description: 'The version new parts start on' }),
    latest: z.number().int(),
    versions: z.array(LifecycleSummarySchema).openapi({ description: 'Oldest first' }),
  })
  .openapi('LifecycleVersions');

export const nameParams = z.object({ name: z.string().openapi({ description: "The lifecycle's name", example: 'part-basic' }) });
// `version` stays a string here: the handler answers a bad one with 400 `invalid_version`.
export const versionParams = nameParams.extend({
  version: z.string().openapi({ description: 'A version number: a positive integer', example: '1' }),
});

const definitionBody = { schema: { $ref: componentRef(DEFINITION) } };

export const tags = ['Lifecycles'];

const routes = {
  // No zod schema for the body: it may be YAML, and the handler parses and checks it (422 naming lines).
  publish: route({
    middleware: [roleRequired(API_ROLES.processEngineer)],
    method: 'post',
    path: '/',
    tags,
    summary: 'Publish a lifecycle definition as its next immutable version (role process-engineer)',
    description:
      'The body is the definition itself, as JSON or YAML (`content-type: application/yaml` or `text/yaml`). A definition is its content: content identical to *any* published version answers 200 with that version and changes nothing; a `version` in the definition must be that one or the next. New content becomes the default version unless `?default=false`. Needs the role `process-engineer` (or `admin`). The format is also served as a JSON Schema at `/lifecycles/schema.json`.',
    request: {
      query: z.object({
        default: z.enum(['true', 'false']).optional().openapi({ description: 'Whether a new version becomes the default (default: true)' }),
      }),
      body: {
        required: true,
        description: 'A lifecycle definition',
        content: { 'application/json': definitionBody, 'application/yaml': definitionBody, 'text/yaml': definitionBody },
      },
    },
    responses: {
      201: jsonResponse(LifecycleVersionSchema, 'Published as a new version; `location` names it'),
      200: jsonResponse(LifecycleVersionSchema, 'The same content is already published as this version; nothing changed'),
      ...errors(
        [400, 'An empty body'],
        401,
        403,
        [409, 'The stated version exists with other content (`version_exists`), or is not the next one (`version_gap`)'],
        [422, 'The definition has problems (`invalid_definition`, each in `details.problems`)'],
      ),
    },
  }),
  list: route({
    method: 'get',
    path: '/',
    tags,
    summary: 'Every lifecycle, with its default version (what new parts start on) and its latest version number',
    responses: { 200: jsonResponse(LifecycleListSchema, 'The lifecycles'), ...errors(401) },
  }),
  schema: route({
    method: 'get',
    path: '/schema.json',
    tags,
    summary: 'The JSON Schema (2020-12) of the lifecycle definition format, for editors',
    // z.any, not z.unknown: zod-openapi types a top-level `Record<string, unknown>` response as never.
    responses: {
      200: jsonResponse(z.record(z.any()).openapi({ description: 'A JSON Schema document' }), 'The JSON Schema'),
      ...errors(401),
    },
  }),
  versions: route({
    method: 'get',
    path: '/{name}',
    tags,
    summary: "A lifecycle's versions, which is the default, and which are deprecated",
    request: { params: nameParams },
    responses: { 200: jsonResponse(LifecycleVersionsSchema, 'Its versions'), ...errors(401, [404, 'No lifecycle of this name']) },
  }),
  version: route({
    method: 'get',
    path: '/{name}/{version}',
    tags,
    summary: 'One version of a lifecycle: the definition as published and its compiled form',
    request: { params: versionParams },
    responses: {
      200: jsonResponse(LifecycleVersionSchema, 'The version'),
      ...errors([400, 'A version that is not a positive integer (`invalid_version`)'], 401, [404, 'No such lifecycle or version']),
    },
  }),
};

export function lifecycleRoutes({ db }: ApiDeps) {
  const app = apiRouter();
  for (const [name, schema] of Object.entries(lifecycleSchemaComponents())) app.openAPIRegistry.registerComponent('schemas', name, schema);

  app.openapi(routes.publish, async (c) => {
    const text = await c.req.text();
    if (text.trim() === '')
      throw new CodedError(Errors.invalid_request, { problems: 'the request body is empty; send a lifecycle definition as JSON or YAML' });
    const parsed = parseLifecycle(text);
    if (!parsed.ok) {
      const problems = parsed.problems.map((problem) => ({ ...problem, text: formatProblem(SOURCE, problem) }));
      throw new CodedError(
        Errors.invalid_definition,
        { count: problems.length, s: problems.length > 1 ? 's' : '', problems: problems.map((p) => p.text).join('; ') },
        { problems },
      );
    }
    // YAML too can spell U+0000 (`"\0"`): refused as a JSON body would be.
    assertStorableJson(parsed.definition);
    const makeDefault = c.req.valid('query').default !== 'false';
    const published = await publishDefinition(db, parsed.definition, 'api', { makeDefault });
    switch (published.outcome) {
      case 'created':
        return c.json(full(published.row, published.defaultVersion), 201, {
          location: `/lifecycles/${published.row.name}/${published.row.version}`,
        });
      case 'unchanged':
        return c.json(full(published.row, published.defaultVersion), 200);
      case 'version-exists':
        throw new CodedError(Errors.version_exists, { name: published.row.name, version: published.row.version });
      case 'version-gap':
        throw new CodedError(Errors.version_gap, {
          name: parsed.definition.name,
          expected: published.expected,
          version: parsed.definition.version ?? '?',
        });
    }
  });

  app.openapi(routes.list, async (c) => {
    const lifecycles = (await listLifecycles(db)).map(({ row, latest }) => ({ ...versionSummary(row, row.version), latest }));
    return c.json({ lifecycles }, 200);
  });

  app.openapi(routes.schema, (c) => c.json(lifecycleJsonSchema(), 200));

  app.openapi(routes.versions, async (c) => {
    const { name } = c.req.valid('param');
    const { versions, defaultVersion } = await listLifecycleVersions(db, name);
    if (versions.length === 0 || defaultVersion === undefined) throw await lifecycleNotFound(db, name);
    const summaries = versions.map((row) => versionSummary(row, defaultVersion));
    return c.json({ name, default: defaultVersion, latest: versions.at(-1)!.version, versions: summaries }, 200);
  });

  app.openapi(routes.version, async (c) => {
    const { name, version } = c.req.valid('param');
    const row = await getLifecycle(db, name, versionParam(version));
    if (!row)
      throw (await getLifecycle(db, name))
        ? new CodedError(Errors.lifecycle_version_not_found, { name, version })
        : await lifecycleNotFound(db, name);
    return c.json(full(row, await defaultVersionOf(db, name)), 200);
  });

  return app;
}
