// /lifecycles: publish lifecycle definitions (YAML or JSON) as immutable versions and read them back.
import { Hono } from 'hono';
import type { Context } from 'hono';
import { getLifecycle, listLifecycleVersions, listLifecycles } from '../db/lifecycles.js';
import type { LifecycleRow } from '../db/lifecycles.js';
import { lifecycleJsonSchema } from '../definitions/json-schema.js';
import { parseLifecycle } from '../definitions/load.js';
import { publishDefinition } from '../definitions/publish.js';
import { formatProblem } from '../definitions/validate.js';
import { API_ROLES, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiError } from './errors.js';

const SOURCE = 'request body';

function summary(row: LifecycleRow) {
  return { name: row.name, version: row.version, contentHash: row.contentHash, source: row.source, createdAt: row.createdAt };
}

function full(row: LifecycleRow) {
  return { ...summary(row), definition: row.definition, compiled: row.compiled };
}

function versionParam(c: Context): number {
  const text = c.req.param('version')!;
  if (!/^[1-9]\d{0,8}$/.test(text)) throw new ApiError(400, 'invalid_version', `version: expected a positive integer, got "${text}"`);
  return Number(text);
}

export function lifecycleRoutes({ db }: ApiDeps): Hono {
  const app = new Hono();

  // The body is the definition itself, as JSON or YAML (content-type application/yaml or text/yaml).
  app.post('/', async (c) => {
    requireRole(c, API_ROLES.processEngineer);
    const text = await c.req.text();
    if (text.trim() === '') throw new ApiError(400, 'invalid_request', 'the request body is empty; send a lifecycle definition as JSON or YAML');
    const parsed = parseLifecycle(text);
    if (!parsed.ok) {
      const problems = parsed.problems.map((problem) => ({ ...problem, text: formatProblem(SOURCE, problem) }));
      throw new ApiError(422, 'invalid_definition', `the definition has ${problems.length} problem${problems.length > 1 ? 's' : ''}: ${problems.map((p) => p.text).join('; ')}`, { problems });
    }
    const published = await publishDefinition(db, parsed.definition, 'api');
    switch (published.outcome) {
      case 'created':
        return c.json(full(published.row), 201, { location: `/lifecycles/${published.row.name}/${published.row.version}` });
      case 'unchanged':
        return c.json(full(published.row), 200);
      case 'version-exists':
        throw new ApiError(409, 'version_exists', `${published.row.name} v${published.row.version} exists with other content; versions are immutable (omit version to publish the next one)`);
      case 'version-gap':
        throw new ApiError(409, 'version_gap', `${parsed.definition.name}: the next version is ${published.expected}, not ${parsed.definition.version}`);
    }
  });

  app.get('/', async (c) => c.json({ lifecycles: (await listLifecycles(db)).map(summary) }));

  app.get('/schema.json', (c) => c.json(lifecycleJsonSchema()));

  app.get('/:name', async (c) => {
    const name = c.req.param('name');
    const versions = await listLifecycleVersions(db, name);
    if (versions.length === 0) throw new ApiError(404, 'lifecycle_not_found', `no lifecycle named "${name}"`);
    return c.json({ name, latest: versions.at(-1)!.version, versions: versions.map(summary) });
  });

  app.get('/:name/:version', async (c) => {
    const name = c.req.param('name');
    const row = await getLifecycle(db, name, versionParam(c));
    if (!row) throw new ApiError(404, 'lifecycle_version_not_found', `lifecycle "${name}" has no version ${c.req.param('version')}`);
    return c.json(full(row));
  });

  return app;
}
