// Temporal's reset for workflow-level breakage (a bad deploy whose workflow tasks fail or decided
// wrongly): the part's workflow starts a new run from the history up to a chosen workflow task and
// runs on from there with the code deployed now. Signals and updates received after that point are
// applied again; activities after it run again, which every chain write tolerates (idempotency keys).
// For a step that failed because of the outside world, retry the step instead.
import { randomUUID } from 'node:crypto';
import proto from '@temporalio/proto';
import type { temporal as protoTypes } from '@temporalio/proto';
import { WorkflowNotFoundError } from '@temporalio/common';
import { getPart, setPartStatus } from '../../db/parts.js';
import { completeOperatorAction, insertOperatorAction, withdrawOperatorAction } from '../../db/operator-actions.js';
import { checkOperatorReason } from './operator-reason.js';
import type { OpsDeps } from './decisions.js';
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';

// @temporalio/proto is CommonJS: under plain Node ESM its namespace is the default export.
const { EventType } = proto.temporal.api.enums.v1;

/** Events a reset may go back to: the end of a workflow task. */
const RESET_POINTS = new Set([
  EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
]);

export interface ResetRequest {
  reason: string;
  actor: string;
  /** A workflow task's completed (or failed) event id; default: the last completed workflow task. */
  eventId?: number;
  requestId?: string;
}

export interface ResetResult {
  partId: string;
  previousRunId: string;
  runId: string;
  eventId: number;
}

export async function resetPart(deps: OpsDeps, partId: string, request: ResetRequest): Promise<ResetResult> {
  checkOperatorReason(request.reason);
  const part = await getPart(deps.db, partId);
  if (!part) throw new CodedError(Errors.part_not_found, { id: partId });
  const handle = deps.temporal.workflow.getHandle(partId);
  const description = await handle.describe().catch((error: unknown) => {
    if (error instanceof WorkflowNotFoundError) throw new CodedError(Errors.part_not_found, { id: partId });
    throw error;
  });
  if (description.status.name === 'COMPLETED') {
    throw new CodedError(Errors.part_completed, { id: partId, status: part.status });
  }
  const history = await deps.temporal.workflow.getHandle(partId, description.runId).fetchHistory();
  const events = history.events ?? [];
  const points = events.filter((event) => RESET_POINTS.has(event.eventType!)).map((event) => Number(event.eventId));
  const lastCompleted = events.findLast((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  const eventId = request.eventId ?? (lastCompleted ? Number(lastCompleted.eventId) : undefined);
  if (eventId === undefined || !points.includes(eventId)) {
    const choices = points.slice(-10).join(', ');
    throw new CodedError(Errors.invalid_reset_point, {
      event: request.eventId ?? '(last workflow task)',
      runId: description.runId,
      choices: choices || 'none',
    });
  }

  const requestId = request.requestId ?? randomUUID();
  const auditId = `reset:${requestId}`;
  const partStatus = part.status === 'failed' ? 'active' : part.status;
  // The record first: a reset that SQL cannot record does not happen. Until Temporal answers, the
  // row says `requested`; a crash in between leaves that visible, never a reset without its row.
  const recorded = await insertOperatorAction(deps.db, {
    requestId: auditId,
    partId,
    stepId: null,
    action: 'reset',
    actor: request.actor,
    reason: request.reason,
    before: { partStatus: part.status, runId: description.runId, workflowStatus: description.status.name },
    after: { partStatus, eventId, state: 'requested' },
  });
  const ask: ResetAsk = { partId, runId: description.runId, reason: request.reason, actor: request.actor, eventId, requestId };
  let runId: string;
  try {
    runId = await askTemporalToReset(deps, ask);
  } catch (error) {
    // Refused: no record may claim it happened (a repeat keeps the first request's row).
    if (recorded) await withdrawOperatorAction(deps.db, auditId, partId);
    throw error;
  }
  await recordResetDone(deps, auditId, partId, { partStatus, runId, eventId, wasFailed: recorded && part.status === 'failed' });
  return { partId, previousRunId: description.runId, runId, eventId };
}

/** What Temporal is asked: everything is also in the audit row, so an interrupted reset can be asked again. */
export interface ResetAsk {
  partId: string;
  /** The run to reset (the one current when the operator asked). */
  runId: string;
  reason: string;
  actor: string;
  eventId: number;
  requestId: string;
}

/** Asks Temporal for the reset; a repeated request id is one reset for Temporal too (the same new run). */
export async function askTemporalToReset(deps: OpsDeps, ask: ResetAsk): Promise<string> {
  const { runId } = await deps.temporal.workflowService.resetWorkflowExecution({
    namespace: deps.temporal.options.namespace,
    workflowExecution: { workflowId: ask.partId, runId: ask.runId },
    reason: `${ask.reason} (by ${ask.actor})`,
    workflowTaskFinishEventId: ask.eventId as unknown as Long,
    requestId: ask.requestId,
  });
  return runId!;
}

/** Completes the audit row with the new run; a failed part runs again, a parked or active one replays into its state. */
export async function recordResetDone(
  deps: OpsDeps,
  auditId: string,
  partId: string,
  done: { partStatus: string; runId: string; eventId: number; wasFailed: boolean },
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await completeOperatorAction(tx, auditId, { partStatus: done.partStatus, runId: done.runId, eventId: done.eventId });
    if (done.wasFailed) await setPartStatus(tx, partId, 'active');
  });
}

type Long = NonNullable<protoTypes.api.workflowservice.v1.IResetWorkflowExecutionRequest['workflowTaskFinishEventId']>;
