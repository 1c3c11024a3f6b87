// POST /parts/:id/transfer and /parts/:id/decommission: the participant holding a part hands it to
// another participant, or takes it out of circulation, outside any lifecycle step. Only the holder
// may (403 otherwise, checked here and again on chain, where the contract has the last word).
// POST /parts/:id/certificates: an accepted certifier anchors a certificate document it signed; a
// part parked on `certify` then retries the step. The
// action runs as a short workflow, so it is retried like every chain write; an Idempotency-Key makes
// a repeated request one action.
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { LedgerAction } from '../workflows/activity-contract.js';
import { attachCertificate, runLedgerAction } from '../domain/commands/ledger-actions.js';
import { DURATION_PATTERN } from '../domain/lifecycles/authoring-schema.js';
import { findParticipant } from '../db/participants.js';
import { DOCUMENT_ID_PATTERN } from '../workflows/definition.js';
import { actingParticipant } from './auth.js';
import { partIdParams } from './parts.js';
import type { ApiDeps } from './deps.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { apiRouter, errors, jsonBody, jsonResponse, route } from './openapi.js';
import { idempotent, IdempotencyKeyHeader } from './idempotency.js';

const transferBody = z
  .object({ to: z.string().min(1).openapi({ description: 'The participant to hand the part to', example: 'acme-assembly' }) })
  .strict()
  .openapi('TransferPart');
const certificateBody = z
  .object({
    document: z
      .string()
      .regex(DOCUMENT_ID_PATTERN, 'a document id from POST /documents')
      .openapi({ description: 'The certificate document, uploaded and signed by the certifier (POST /documents)' }),
    validFor: z
      .string()
      .regex(DURATION_PATTERN, 'a duration such as 30d or 12h')
      .optional()
      .openapi({ description: 'How long it is valid (default: no expiry)', example: '365d' }),
  })
  .strict()
  .openapi('AttachCertificate');

const LedgerActionResultSchema = z
  .object({
    part: z.string(),
    action: z.enum(['transfer', 'decommission', 'attach-certificate']),
    owner: z.string().optional().openapi({ description: 'The holder after the action' }),
    txHash: z.string().nullable(),
    certificate: z
      .object({
        certificate: z.string(),
        document: z.string(),
        documentHash: z.string(),
        issuer: z.string(),
        validUntil: z.string().nullable().openapi({ description: 'ISO time, or null for no expiry' }),
        txHash: z.string().nullable(),
      })
      .optional(),
    resumed: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: 'For a certificate: the `certify` step the part was parked on and now retries' }),
  })
  .openapi('LedgerActionResult');

const tags = ['Ledger actions'];
const done = (description: string) => jsonResponse(LedgerActionResultSchema, description);

const routes = {
  transfer: route({
    method: 'post',
    path: '/{id}/transfer',
    tags,
    summary: 'Hand a part to another participant (only its holder may)',
    request: { params: partIdParams, headers: IdempotencyKeyHeader, body: jsonBody(transferBody) },
    responses: {
      200: done('Transferred, on chain'),
      ...errors(
        400,
        401,
        [403, 'The caller does not hold the part (`not_holder`)'],
        [404, 'No such part'],
        [
          409,
          'The part is not on chain yet, bundled, assembled or decommissioned, or a request with this Idempotency-Key is still running (`idempotency_key_in_use`, with Retry-After)',
        ],
        [
          422,
          'No such participant to hand it to (`unknown_participant`), or the Idempotency-Key was used for another request (`idempotency_key_reused`)',
        ],
      ),
    },
  }),
  decommission: route({
    method: 'post',
    path: '/{id}/decommission',
    tags,
    summary: 'Take a part out of circulation (only its holder may)',
    request: { params: partIdParams, headers: IdempotencyKeyHeader },
    responses: {
      200: done('Decommissioned, on chain'),
      ...errors(
        400,
        401,
        [403, 'The caller does not hold the part (`not_holder`)'],
        [404, 'No such part'],
        [
          409,
          'The part is not on chain yet, bundled, assembled or already decommissioned, or a request with this Idempotency-Key is still running (`idempotency_key_in_use`, with Retry-After)',
        ],
        [422, 'The Idempotency-Key was used for another request (`idempotency_key_reused`)'],
      ),
    },
  }),
  certificate: route({
    method: 'post',
    path: '/{id}/certificates',
    tags,
    summary: 'Anchor a certificate document on a part (accepted certifiers only); a part parked on `certify` retries it',
    request: { params: partIdParams, headers: IdempotencyKeyHeader, body: jsonBody(certificateBody) },
    responses: {
      200: done('Anchored, on chain'),
      ...errors(
        400,
        401,
        [403, 'The caller is not an accepted certifier (`not_a_certifier`)'],
        [404, 'No such part'],
        [
          409,
          'The part is not on chain yet, or the certificate exists or its document is anchored elsewhere, or a request with this Idempotency-Key is still running (`idempotency_key_in_use`, with Retry-After)',
        ],
        [
          422,
          'No such document in the vault (`unknown_document`), one the caller did not send (`document_not_yours`), or an Idempotency-Key used for another request (`idempotency_key_reused`)',
        ],
      ),
    },
  }),
};

export function ledgerActionRoutes(deps: ApiDeps) {
  const { db } = deps;
  const app = apiRouter();
  const run = (c: Context, partId: string, action: LedgerAction) =>
    idempotent(c, db, async (key) => c.json(await runLedgerAction(deps, actingParticipant(c), partId, action, key), 200));

  app.openapi(routes.transfer, async (c) => {
    const { to } = c.req.valid('json');
    if (!(await findParticipant(db, to))) {
      throw new CodedError(Errors.unknown_participant, { field: 'to', problem: `no participant "${to}"` }, [
        { field: 'to', message: `unknown participant "${to}"` },
      ]);
    }
    return run(c, c.req.valid('param').id, { action: 'transfer', to });
  });

  app.openapi(routes.decommission, async (c) => run(c, c.req.valid('param').id, { action: 'decommission' }));

  app.openapi(routes.certificate, async (c) => {
    const body = c.req.valid('json');
    const partId = c.req.valid('param').id;
    return idempotent(c, db, async (key) => c.json(await attachCertificate(deps, actingParticipant(c), partId, body, key), 200));
  });

  return app;
}
