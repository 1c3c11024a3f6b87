// Ledger actions outside any lifecycle step: the holder transfers or decommissions a part, an
// accepted certifier anchors a certificate document it signed. Each runs as a short workflow, so it
// is retried like every chain write; a request key makes repeats one action (the HTTP
// Idempotency-Key, the Service Bus message id).
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { Address } from 'viem';
import type { LedgerAction, LedgerActionResult } from '../../workflows/activity-contract.js';
import { parseDuration } from '../../workflows/duration.js';
import { getDocument } from '../../db/documents.js';
import type { Participant } from '../../db/participants.js';
import { getPart } from '../../db/parts.js';
import { tokenIdOf } from '../chain/part-registry.js';
import { LEDGER_ACTION_WORKFLOW_TYPE } from '../../workflows/ledger-task-types.js';
import { describeIfExists } from './workflow-handles.js';
import type { CommandDeps } from './deps.js';
import { CodedError } from '../errors/coded-error.js';
import type { ErrorEntry } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';
import { StepRejection } from '../errors/step-rejections.js';

type Refusal = (reason: string, details: { reason: string }) => CodedError;

/** A refusal whose message is the workflow's own. */
const because =
  (entry: ErrorEntry<string, '{reason}'>): Refusal =>
  (reason, details) =>
    new CodedError(entry, { reason }, details);

/** What the ledger action workflow's refusals (a step rejection or the contract's error name) mean to a caller. */
const REFUSALS: Record<string, Refusal> = {
  [StepRejection.NotHolder]: because(Errors.not_holder),
  ERC721InsufficientApproval: because(Errors.not_holder),
  PartIsBundled: because(Errors.part_is_bundled),
  PartIsAssembled: because(Errors.part_is_assembled),
  PartIsDecommissioned: because(Errors.part_decommissioned),
  BundleNotEmpty: because(Errors.bundle_not_empty),
  [StepRejection.UnknownParticipant]: (problem, details) => new CodedError(Errors.unknown_participant, { field: 'to', problem }, details),
  AccessControlUnauthorizedAccount: because(Errors.not_a_certifier),
  CertificateExists: because(Errors.certificate_exists),
  [StepRejection.DocumentNotFound]: (problem, details) => new CodedError(Errors.unknown_document, { problem }, details),
  [StepRejection.DocumentDeleted]: (problem, details) => new CodedError(Errors.unknown_document, { problem }, details),
  [StepRejection.DocumentNotFromIssuer]: because(Errors.document_not_yours),
  [StepRejection.DocumentVerificationFailed]: because(Errors.document_verification_failed),
  [StepRejection.DocumentAnchoredElsewhere]: because(Errors.document_anchored_elsewhere),
};

function refusalOf(error: unknown): CodedError | undefined {
  if (!(error instanceof WorkflowFailedError)) return undefined;
  const cause = error.cause instanceof ActivityFailure ? error.cause.cause : error.cause;
  if (!(cause instanceof ApplicationFailure) || !cause.type) return undefined;
  return (REFUSALS[cause.type] ?? because(Errors.ledger_refused))(cause.message, { reason: cause.type });
}

/** Only the holder moves or decommissions a part. */
async function requireHolder(deps: CommandDeps, actor: Participant, partId: string, action: LedgerAction): Promise<void> {
  const holder = await deps.registry.ownerOf(tokenIdOf(partId));
  if (!holder) throw new CodedError(Errors.part_not_on_chain, { id: partId });
  if (holder !== actor.address)
    throw new CodedError(Errors.not_holder, {
      reason: `participant "${actor.id}" does not hold ${partId}; only its holder may ${action.action} it`,
    });
}

/** Only an accepted certifier attaches certificates. */
async function requireCertifier(deps: CommandDeps, actor: Participant, partId: string): Promise<void> {
  if (!(await deps.registry.exists(tokenIdOf(partId)))) throw new CodedError(Errors.part_not_on_chain, { id: partId });
  if (!(await deps.registry.isAcceptedCertifier(actor.address as Address)))
    throw new CodedError(Errors.not_a_certifier, { reason: `participant "${actor.id}" is not an accepted certifier` });
}

/** Runs the action as `actor`; with a request key, a repeat answers with the first one's outcome. */
export async function runLedgerAction(
  deps: CommandDeps,
  actor: Participant,
  partId: string,
  action: LedgerAction,
  key?: string,
): Promise<LedgerActionResult> {
  const { db, temporal, taskQueue, policies } = deps;
  const workflowId = `ledger-action:${action.action}:${partId}:${actor.id}:${key ?? randomUUID()}`;
  try {
    // A repeated request answers with the first one's outcome, whoever holds the part now.
    if (key && (await describeIfExists(temporal.workflow.getHandle(workflowId))))
      return (await temporal.workflow.getHandle(workflowId).result()) as LedgerActionResult;
    if (!(await getPart(db, partId))) throw new CodedError(Errors.part_not_found, { id: partId });
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
    if (error instanceof WorkflowExecutionAlreadyStartedError)
      return (await temporal.workflow.getHandle(workflowId).result()) as LedgerActionResult;
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
  if (!row || row.deletedAt)
    throw new CodedError(Errors.unknown_document, { problem: `no document "${request.document}" in the vault` }, [
      { field: 'document', message: 'not found' },
    ]);
  if (row.owner !== actor.id)
    throw new CodedError(
      Errors.document_not_yours,
      { reason: `document: ${row.id} was sent by ${row.owner}; a certifier anchors only documents it signed` },
      [{ field: 'document', message: 'not sent by you' }],
    );
  const validForMs = request.validFor === undefined ? null : parseDuration(request.validFor)!;
  return runLedgerAction(deps, actor, partId, { action: 'attach-certificate', document: row.id, kind: row.kind, validForMs }, key);
}
