// GET /participants: who takes part, with their ledger addresses.
import { Hono } from 'hono';
import { listParticipants } from '../db/participants.js';
import type { ApiDeps } from './deps.js';

export function participantRoutes(deps: ApiDeps): Hono {
  const app = new Hono();
  app.get('/', async (c) => {
    const rows = await listParticipants(deps.db);
    return c.json({ participants: rows.map(({ id, name, roles, address }) => ({ id, name, roles, address })) });
  });
  return app;
}
