// Ledger actions outside any lifecycle step: the holder transfers or decommissions a part, an
// accepted certifier anchors a certificate document it signed. Each runs as a short workflow, so it
// is retried like every chain write; a request key makes repeats one action (the HTTP
// Idempotency-Key, the Service Bus message id).
import { randomUUID } from 'node:crypto';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { Address } from 'viem';
import type { LedgerAction, LedgerActionResult } from '../../activities/ledger-actions.js';
import { parseDuration } from '../lifecycles/duration.js';
import { getDocument } from '../../db/documents.js';
import type { Participant } from '../../db/participants.js';
import { getPart } from '../../db/parts.js';
import { tokenIdOf } from '../chain/part-registry.js';
import { LEDGER_ACTION_WORKFLOW_TYPE } from '../../workflows/ledger-task-types.js';
import { describeIfExists } from './workflow-handles.js';
import type { CommandDeps } from './deps.js';
import { CommandRefused } from './errors.js';

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

function refusalOf(error: unknown): CommandRefused | undefined {
  if (!(error instanceof WorkflowFailedError)) return undefined;
  const cause = error.cause instanceof ActivityFailure ? error.cause.cause : error.cause;
  if (!(cause instanceof ApplicationFailure) || !cause.type) return undefined;
  const refusal = REFUSALS[cause.type] ?? { status: 409 as const, code: 'ledger_refused' };
  return new CommandRefused(refusal.status, refusal.code, cause.message, { reason: cause.type });
}

/** Only the holder moves or decommissions a part. */
async function requireHolder(deps: CommandDeps, actor: Participant, partId: string, action: LedgerAction): Promise<void> {
  const holder = await deps.registry.ownerOf(tokenIdOf(partId));
  if (!holder) throw new CommandRefused(409, 'part_not_on_chain', `part "${partId}" has no token on chain yet`);
  if (holder !== actor.address) throw new CommandRefused(403, 'not_holder', `participant "${actor.id}" does not hold ${partId}; only its holder may ${action.action} it`);
}

/** Only an accepted certifier attaches certificates. */
async function requireCertifier(deps: CommandDeps, actor: Participant, partId: string): Promise<void> {
  if (!(await deps.registry.exists(tokenIdOf(partId)))) throw new CommandRefused(409, 'part_not_on_chain', `part "${partId}" has no token on chain yet`);
  if (!(await deps.registry.isAcceptedCertifier(actor.address as Address))) throw new CommandRefused(403, 'not_a_certifier', `participant "${actor.id}" is not an accepted certifier`);
}

/** Runs the action as `actor`; with a request key, a repeat answers with the first one's outcome. */
export async function runLedgerAction(deps: CommandDeps, actor: Participant, partId: string, action: LedgerAction, key?: string): Promise<LedgerActionResult> {
  const { db, temporal, taskQueue, policies } = deps;
  const workflowId = `ledger-action:${action.action}:${partId}:${actor.id}:${key ?? randomUUID()}`;
  try {
    // A repeated request answers with the first one's outcome, whoever holds the part now.
    if (key && (await describeIfExists(temporal.workflow.getHandle(workflowId)))) return (await temporal.workflow.getHandle(workflowId).result()) as LedgerActionResult;
    if (!(await getPart(db, partId))) throw new CommandRefused(404, 'part_not_found', `no part "${partId}"`);
    if (action.action === 'attach-certificate') await requireCertifier(deps, actor, partId);
    else await requireHolder(deps, actor, partId, action);
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

/** A certifier anchors a vault document it signed itself (checked again, with the content, by the activity). */
export async function attachCertificate(
  deps: CommandDeps,
  actor: Participant,
  partId: string,
  request: { document: string; validFor?: string },
  key?: string,
): Promise<LedgerActionResult> {
  const row = await getDocument(deps.db, request.document.toLowerCase());
  if (!row || row.deletedAt) throw new CommandRefused(422, 'document_not_found', `document: no document "${request.document}" in the vault`, [{ field: 'document', message: 'not found' }]);
  if (row.owner !== actor.id) throw new CommandRefused(422, 'document_not_yours', `document: ${row.id} was sent by ${row.owner}; a certifier anchors only documents it signed`, [{ field: 'document', message: 'not sent by you' }]);
  const validForMs = request.validFor === undefined ? null : parseDuration(request.validFor)!;
  return runLedgerAction(deps, actor, partId, { action: 'attach-certificate', document: row.id, kind: row.kind, validForMs }, key);
}
