// /lifecycles/{name}/default and /lifecycles/{name}/{version}/deprecation: the process engineer's say
// over which version new parts start on, and which versions no new part may start on any more.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { listLifecycleVersions, setDefaultVersion, setDeprecated } from '../db/lifecycles.js';
import type { VersionChange } from '../db/lifecycles.js';
import type { Db } from '../db/client.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { actingParticipant, API_ROLES, roleRequired } from './auth.js';
import type { ApiDeps } from './deps.js';
import { LifecycleSummarySchema, nameParams, tags, versionParam, versionParams, versionSummary } from './lifecycles.js';
import { apiRouter, errors, jsonBody, jsonResponse, route } from './openapi.js';
import { versionNumber } from './input-limits.js';

const setDefaultBody = z
  .object({ version: versionNumber().openapi({ description: 'The version new parts start on from now', example: 2 }) })
  .strict()
  .openapi('SetDefaultVersion');

const middleware = [roleRequired(API_ROLES.processEngineer)];
const answered = jsonResponse(LifecycleSummarySchema, 'The version, as it is now');

const routes = {
  setDefault: route({
    middleware,
    method: 'post',
    path: '/{name}/default',
    tags,
    summary: 'Choose the version new parts start on when their request names none (role process-engineer)',
    description: 'Running parts stay on the version they started on. A deprecated version cannot be the default.',
    request: { params: nameParams, body: jsonBody(setDefaultBody) },
    responses: {
      200: answered,
      ...errors(400, 401, 403, [404, 'No such lifecycle or version'], [409, 'The version is deprecated (`lifecycle_version_deprecated`)']),
    },
  }),
  deprecate: route({
    middleware,
    method: 'put',
    path: '/{name}/{version}/deprecation',
    tags,
    summary: 'Deprecate a version: no new part starts on it; running parts finish on it (role process-engineer)',
    request: { params: versionParams },
    responses: {
      200: answered,
      ...errors(
        [400, 'A version that is not a positive integer'],
        401,
        403,
        [404, 'No such lifecycle or version'],
        [409, 'It is the default (`default_version_deprecation`): choose another default first'],
      ),
    },
  }),
  undeprecate: route({
    middleware,
    method: 'delete',
    path: '/{name}/{version}/deprecation',
    tags,
    summary: 'Lift a deprecation: new parts may start on the version again (role process-engineer)',
    request: { params: versionParams },
    responses: {
      200: answered,
      ...errors([400, 'A version that is not a positive integer'], 401, 403, [404, 'No such lifecycle or version']),
    },
  }),
};

/** The version after a change, or the coded error the change met. */
async function answer(c: Context, db: Db, name: string, version: number, change: VersionChange) {
  if (change === 'not-found') throw new CodedError(Errors.lifecycle_version_not_found, { name, version });
  if (change === 'is-default') throw new CodedError(Errors.default_version_deprecation, { name, version });
  if (change === 'deprecated') {
    const hint = `lift the deprecation first (DELETE /lifecycles/${name}/${version}/deprecation)`;
    throw new CodedError(Errors.lifecycle_version_deprecated, { name, version, hint });
  }
  const { versions, defaultVersion } = await listLifecycleVersions(db, name);
  return c.json(
    versionSummary(
      versions.find((row) => row.version === version)!,
      defaultVersion,
    ),
    200,
  );
}

export function lifecycleVersionRoutes({ db }: ApiDeps) {
  const app = apiRouter();

  app.openapi(routes.setDefault, async (c) => {
    const { name } = c.req.valid('param');
    const { version } = c.req.valid('json');
    return answer(c, db, name, version, await setDefaultVersion(db, name, version, actingParticipant(c).id));
  });

  app.openapi(routes.deprecate, async (c) => {
    const { name, version } = c.req.valid('param');
    const number = versionParam(version);
    return answer(c, db, name, number, await setDeprecated(db, name, number, true));
  });

  app.openapi(routes.undeprecate, async (c) => {
    const { name, version } = c.req.valid('param');
    const number = versionParam(version);
    return answer(c, db, name, number, await setDeprecated(db, name, number, false));
  });

  return app;
}
