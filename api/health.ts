// GET /healthz: SQL, Temporal and the chain each answer, or the service is not healthy (503).
import { z } from '@hono/zod-openapi';
import { sql } from 'drizzle-orm';
import type { ApiDeps } from './deps.js';
import { apiRouter, jsonResponse, route } from './openapi.js';

async function check(probe: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await probe();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

const CheckSchema = z
  .object({ ok: z.boolean(), error: z.string().optional().openapi({ description: 'Why the probe failed' }) })
  .openapi('HealthCheck');

const HealthSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.object({
      database: CheckSchema.openapi({ description: 'SQL answers `select 1`' }),
      temporal: CheckSchema.openapi({ description: 'The Temporal frontend answers' }),
      chain: CheckSchema.openapi({ description: 'The chain node answers with its block number' }),
    }),
  })
  .openapi('Health');

const routes = {
  health: route({
    method: 'get',
    path: '/',
    tags: ['Health'],
    summary: 'Whether SQL, Temporal and the chain each answer',
    description: 'Needs no API key (mounted before authentication), for load balancers and orchestrators.',
    security: [],
    responses: {
      200: jsonResponse(HealthSchema, 'Healthy: every check passed'),
      503: jsonResponse(HealthSchema, 'Not healthy: the failing checks say why'),
    },
  }),
};

export function healthRoutes(deps: ApiDeps) {
  const app = apiRouter();
  app.openapi(routes.health, async (c) => {
    const [database, temporal, chain] = await Promise.all([
      check(() => deps.db.execute(sql`select 1`)),
      check(() => deps.temporal.workflowService.getSystemInfo({})),
      check(() => deps.chain.client.getBlockNumber()),
    ]);
    const ok = database.ok && temporal.ok && chain.ok;
    const body = { status: ok ? ('ok' as const) : ('unavailable' as const), checks: { database, temporal, chain } };
    return ok ? c.json(body, 200) : c.json(body, 503);
  });
  return app;
}
