// GET /healthz: SQL, Temporal and the chain each answer, or the service is not healthy (503).
import { Hono } from 'hono';
import { sql } from 'drizzle-orm';
import type { ApiDeps } from './deps.js';

async function check(probe: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
  try {
    await probe();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

export function healthRoutes(deps: ApiDeps): Hono {
  const app = new Hono();
  app.get('/', async (c) => {
    const [database, temporal, chain] = await Promise.all([
      check(() => deps.db.execute(sql`select 1`)),
      check(() => deps.temporal.workflowService.getSystemInfo({})),
      check(() => deps.chain.client.getBlockNumber()),
    ]);
    const ok = database.ok && temporal.ok && chain.ok;
    return c.json({ status: ok ? 'ok' : 'unavailable', checks: { database, temporal, chain } }, ok ? 200 : 503);
  });
  return app;
}
