// The Hono application: one route module per resource, JSON errors everywhere.
import { Hono } from 'hono';
import type { ApiDeps } from './deps.js';
import { ApiError, errorResponse } from './errors.js';
import { healthRoutes } from './health.js';
import { lifecycleRoutes } from './lifecycles.js';
import { opsRoutes } from './ops.js';
import { participantRoutes } from './participants.js';
import { partRoutes } from './parts.js';

export function createApi(deps: ApiDeps, log: (line: string) => void = console.error): Hono {
  const app = new Hono();
  app.route('/healthz', healthRoutes(deps));
  app.route('/lifecycles', lifecycleRoutes(deps));
  app.route('/parts', partRoutes(deps));
  app.route('/participants', participantRoutes(deps));
  app.route('/ops', opsRoutes(deps));
  app.notFound((c) => errorResponse(c, new ApiError(404, 'not_found', `no route for ${c.req.method} ${c.req.path}`)));
  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error);
    log(`internal error on ${c.req.method} ${c.req.path}: ${error.stack ?? error.message}`);
    return errorResponse(c, new ApiError(500, 'internal_error', 'internal error; see the server log'));
  });
  return app;
}
