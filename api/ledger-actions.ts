// POST /parts/:id/transfer and /parts/:id/decommission: the participant holding a part hands it to
// another participant, or takes it out of circulation, outside any lifecycle step. Only the holder
// may (403 otherwise, checked here and again on chain, where the contract has the last word).
// POST /parts/:id/certificates: an accepted certifier anchors a certificate document it signed; a
// part parked on `certify` then retries the step. The
// action runs as a short workflow, so it is retried like every chain write; an Idempotency-Key makes
// a repeated request one action.
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { Address } from 'viem';
import { z } from 'zod';
import type { LedgerAction, LedgerActionResult } from '../activities/ledger-actions.js';
import { parseDuration } from '../config/duration.js';
import { DURATION_PATTERN } from '../definitions/schema.js';
import { getDocument } from '../db/documents.js';
import { findParticipant } from '../db/participants.js';
import type { Participant } from '../db/participants.js';
import { getPart } from '../db/parts.js';
import { tokenIdOf } from '../ledger/part-registry.js';
import { DOCUMENT_ID_PATTERN } from '../workflows/definition.js';
import { LEDGER_ACTION_WORKFLOW_TYPE } from '../workflows/ledger-task-types.js';
import { actingParticipant } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiError, readJson } from './errors.js';
import { idempotencyKeyOf } from './operator.js';
import { describeIfExists } from './workflow-handles.js';

const transferBody = z.object({ to: z.string().min(1) }).strict();
const certificateBody = z
  .object({
    document: z.string().regex(DOCUMENT_ID_PATTERN, 'a document id from POST /documents'),
    validFor: z.string().regex(DURATION_PATTERN, 'a duration such as 30d or 12h').optional(),
  })
  .strict();

/** What the chain's refusals mean to a caller. */
const REFUSALS: Record<string, { status: ContentfulStatusCode; code: string }> = {
  NotHolder: { status: 403, code: 'not_holder' },
  ERC721InsufficientApproval: { status: 403, code: 'not_holder' },
  PartIsBundled: { status: 409, code: 'part_is_bundled' },
  PartIsAssembled: { status: 409, code: 'part_is_assembled' },
  PartIsDecommissioned: { status: 409, code: 'part_decommissioned' },
  BundleNotEmpty: { status: 409, code: 'bundle_not_empty' },
  UnknownParticipantError: { status: 422, code: 'unknown_participant' },
  AccessControlUnauthorizedAccount: { status: 403, code: 'not_a_certifier' },
  CertificateExists: { status: 409, code: 'certificate_exists' },
  DocumentNotFound: { status: 422, code: 'document_not_found' },
  DocumentDeleted: { status: 422, code: 'document_not_found' },
  DocumentNotFromIssuer: { status: 422, code: 'document_not_yours' },
  DocumentVerificationFailed: { status: 409, code: 'document_verification_failed' },
  DocumentAnchoredElsewhere: { status: 409, code: 'document_anchored_elsewhere' },
};

function refusalOf(error: unknown): ApiError | undefined {
  if (!(error instanceof WorkflowFailedError)) return undefined;
  const cause = error.cause instanceof ActivityFailure ? error.cause.cause : error.cause;
  if (!(cause instanceof ApplicationFailure) || !cause.type) return undefined;
  const refusal = REFUSALS[cause.type] ?? { status: 409 as const, code: 'ledger_refused' };
  return new ApiError(refusal.status, refusal.code, cause.message, { reason: cause.type });
}

export function ledgerActionRoutes(deps: ApiDeps): Hono {
  const { db, temporal, taskQueue, policies, registry } = deps;
  const app = new Hono();

  /** Only the holder moves or decommissions a part. */
  async function requireHolder(actor: Participant, partId: string, action: LedgerAction): Promise<void> {
    const holder = await registry.ownerOf(tokenIdOf(partId));
    if (!holder) throw new ApiError(409, 'part_not_on_chain', `part "${partId}" has no token on chain yet`);
    if (holder !== actor.address) throw new ApiError(403, 'not_holder', `participant "${actor.id}" does not hold ${partId}; only its holder may ${action.action} it`);
  }

  /** Only an accepted certifier attaches certificates. */
  async function requireCertifier(actor: Participant, partId: string): Promise<void> {
    if (!(await registry.exists(tokenIdOf(partId)))) throw new ApiError(409, 'part_not_on_chain', `part "${partId}" has no token on chain yet`);
    if (!(await registry.isAcceptedCertifier(actor.address as Address))) throw new ApiError(403, 'not_a_certifier', `participant "${actor.id}" is not an accepted certifier`);
  }

  async function run(c: Context, partId: string, action: LedgerAction): Promise<LedgerActionResult> {
    const actor = actingParticipant(c);
    const key = idempotencyKeyOf(c);
    const workflowId = `ledger-action:${action.action}:${partId}:${actor.id}:${key ?? randomUUID()}`;
    try {
      // A repeated request answers with the first one's outcome, whoever holds the part now.
      if (key && (await describeIfExists(temporal.workflow.getHandle(workflowId)))) return (await temporal.workflow.getHandle(workflowId).result()) as LedgerActionResult;
      if (!(await getPart(db, partId))) throw new ApiError(404, 'part_not_found', `no part "${partId}"`);
      if (action.action === 'attach-certificate') await requireCertifier(actor, partId);
      else await requireHolder(actor, partId, action);
      const handle = await temporal.workflow.start(LEDGER_ACTION_WORKFLOW_TYPE, {
        taskQueue,
        workflowId,
        args: [{ ...action, partId, actorId: actor.id, requestId: workflowId, policy: policies.chain }],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'USE_EXISTING',
      });
      return (await handle.result()) as LedgerActionResult;
    } catch (error) {
      // Two requests with one key raced past the check: the first one's outcome.
      if (error instanceof WorkflowExecutionAlreadyStartedError) return (await temporal.workflow.getHandle(workflowId).result()) as LedgerActionResult;
      throw refusalOf(error) ?? error;
    }
  }

  app.post('/:id/transfer', async (c) => {
    const { to } = await readJson(c, transferBody);
    if (!(await findParticipant(db, to))) {
      throw new ApiError(422, 'unknown_participant', `to: no participant "${to}"`, [{ field: 'to', message: `unknown participant "${to}"` }]);
    }
    return c.json(await run(c, c.req.param('id'), { action: 'transfer', to }));
  });

  app.post('/:id/decommission', async (c) => c.json(await run(c, c.req.param('id'), { action: 'decommission' })));

  app.post('/:id/certificates', async (c) => {
    const { document, validFor } = await readJson(c, certificateBody);
    // A certifier anchors only documents it signed itself (checked again, with the content, by the activity).
    const row = await getDocument(db, document.toLowerCase());
    if (!row || row.deletedAt) throw new ApiError(422, 'document_not_found', `document: no document "${document}" in the vault`, [{ field: 'document', message: 'not found' }]);
    const actor = actingParticipant(c);
    if (row.owner !== actor.id) throw new ApiError(422, 'document_not_yours', `document: ${row.id} was sent by ${row.owner}; a certifier anchors only documents it signed`, [{ field: 'document', message: 'not sent by you' }]);
    const validForMs = validFor === undefined ? null : parseDuration(validFor)!;
    return c.json(await run(c, c.req.param('id'), { action: 'attach-certificate', document: row.id, kind: row.kind, validForMs }));
  });

  return app;
}
