// POST /parts/:id/transfer and /parts/:id/decommission: the participant holding a part hands it to
// another participant, or takes it out of circulation, outside any lifecycle step. Only the holder
// may (403 otherwise, checked here and again on chain, where the contract has the last word).
// POST /parts/:id/certificates: an accepted certifier anchors a certificate document it signed; a
// part parked on `certify` then retries the step. The
// action runs as a short workflow, so it is retried like every chain write; an Idempotency-Key makes
// a repeated request one action.
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import type { LedgerAction } from '../activities/ledger-actions.js';
import { attachCertificate, runLedgerAction } from '../commands/ledger-actions.js';
import { DURATION_PATTERN } from '../definitions/schema.js';
import { findParticipant } from '../db/participants.js';
import { DOCUMENT_ID_PATTERN } from '../workflows/definition.js';
import { actingParticipant } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiError, readJson } from './errors.js';
import { idempotencyKeyOf } from './operator.js';

const transferBody = z.object({ to: z.string().min(1) }).strict();
const certificateBody = z
  .object({
    document: z.string().regex(DOCUMENT_ID_PATTERN, 'a document id from POST /documents'),
    validFor: z.string().regex(DURATION_PATTERN, 'a duration such as 30d or 12h').optional(),
  })
  .strict();

export function ledgerActionRoutes(deps: ApiDeps): Hono {
  const { db } = deps;
  const app = new Hono();
  const run = (c: Context, partId: string, action: LedgerAction) => runLedgerAction(deps, actingParticipant(c), partId, action, idempotencyKeyOf(c));

  app.post('/:id/transfer', async (c) => {
    const { to } = await readJson(c, transferBody);
    if (!(await findParticipant(db, to))) {
      throw new ApiError(422, 'unknown_participant', `to: no participant "${to}"`, [{ field: 'to', message: `unknown participant "${to}"` }]);
    }
    return c.json(await run(c, c.req.param('id'), { action: 'transfer', to }));
  });

  app.post('/:id/decommission', async (c) => c.json(await run(c, c.req.param('id'), { action: 'decommission' })));

  app.post('/:id/certificates', async (c) => {
    const body = await readJson(c, certificateBody);
    return c.json(await attachCertificate(deps, actingParticipant(c), c.req.param('id'), body, idempotencyKeyOf(c)));
  });

  return app;
}
