// Provenance: GET /parts/:id/trace/backward (what the part is made of, as a tree or, with
// ?shape=graph, each part once with links to its inputs; certificates and custody at every level),
// /trace/forward (every bundle, product and holder the part reached) and /history (every chain event
// of the part, in order, with transaction hashes).
import { Hono } from 'hono';
import { z } from 'zod';
import { getPart } from '../db/parts.js';
import { partHistory } from '../db/provenance.js';
import { TraceTooLargeError, backwardTrace, forwardTrace } from '../provenance/traces.js';
import type { ApiDeps } from './deps.js';
import { ApiError, readQuery } from './errors.js';

const backwardQuery = z.object({ shape: z.enum(['tree', 'graph']).default('tree') }).strict();

export function provenanceRoutes({ db }: ApiDeps): Hono {
  const app = new Hono();

  async function requirePart(id: string) {
    if (!(await getPart(db, id))) throw new ApiError(404, 'part_not_found', `no part "${id}"`);
  }

  app.get('/:id/trace/backward', async (c) => {
    const id = c.req.param('id');
    const { shape } = readQuery(c, backwardQuery);
    await requirePart(id);
    try {
      return c.json(await backwardTrace(db, id, shape));
    } catch (error) {
      if (error instanceof TraceTooLargeError) throw new ApiError(422, 'trace_too_large', error.message);
      throw error;
    }
  });

  app.get('/:id/trace/forward', async (c) => {
    const id = c.req.param('id');
    await requirePart(id);
    return c.json(await forwardTrace(db, id));
  });

  app.get('/:id/history', async (c) => {
    const id = c.req.param('id');
    await requirePart(id);
    const events = await partHistory(db, id);
    return c.json({
      events: events.map((event) => ({
        event: event.name,
        at: event.at.toISOString(),
        blockNumber: event.blockNumber,
        logIndex: event.logIndex,
        txHash: event.txHash,
        ...event.args,
      })),
    });
  });

  return app;
}
