// Sends an operator's decision on a parked step (retry, retry with edits, skip, abort) to the part
// workflow as its `operator` update. The workflow's validator is the judge: it refuses a part that
// is not parked, a step that is not the failed one, a missing reason and edits the step kind does
// not have; this module turns its refusals into typed errors.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { ApplicationFailure, WorkflowNotFoundError } from '@temporalio/common';
import { existingParticipantIds } from '../../db/participants.js';
import { getPart } from '../../db/parts.js';
import { ENDED_PART_STATUSES } from '../../db/schema.js';
import type { Db } from '../../db/client.js';
import { referencesIn } from '../../workflows/definition.js';
import { OPERATOR_UPDATE } from '../../workflows/part-types.js';
import type { OperatorDecision, OperatorDecisionAccepted } from '../../workflows/part-types.js';
import { PartFailure } from '../../workflows/failures.js';
import { CodedError } from '../errors/coded-error.js';
import { checkOperatorReason } from './operator-reason.js';
import { Errors } from '../errors/catalogue.js';
import { requireWithinPayloadLimit } from './payload-size.js';

export interface OpsDeps {
  db: Db;
  temporal: Client;
}

/** Workflow refusals and the errors they become. */
const REFUSALS: Record<string, (message: string, details: unknown) => CodedError> = {
  [PartFailure.NotParked]: (reason, details) => new CodedError(Errors.part_not_parked, { reason }, details),
  [PartFailure.WrongStep]: (reason, details) => new CodedError(Errors.step_not_failed, { reason }, details),
  [PartFailure.InvalidDecision]: (reason, details) => new CodedError(Errors.invalid_decision, { reason }, details),
  [PartFailure.InvalidStepParams]: (problems, details) => new CodedError(Errors.invalid_step_params, { problems }, details),
};

/**
 * Delivers the decision and answers once the workflow has taken it. `requestId` (e.g. an
 * Idempotency-Key) makes a repeated request one decision: Temporal deduplicates updates by id.
 */
export async function sendDecision(
  deps: OpsDeps,
  partId: string,
  decision: OperatorDecision,
  requestId?: string,
): Promise<OperatorDecisionAccepted> {
  // Its params and reason travel as the update's payload, under Temporal's limit.
  requireWithinPayloadLimit('the decision', decision);
  // The workflow records the decision's audit row after taking it: a reason SQL cannot store would
  // leave a decision without its record, so it is refused before anything is sent.
  checkOperatorReason(decision.reason);
  const part = await getPart(deps.db, partId);
  if (!part) throw new CodedError(Errors.part_not_found, { id: partId });
  if (ENDED_PART_STATUSES.has(part.status))
    throw new CodedError(Errors.part_not_active, { id: partId, state: `is ${part.status}; only a reset can bring it back` });
  await checkParticipants(deps.db, decision.params);
  try {
    return await deps.temporal.workflow.getHandle(partId).executeUpdate<OperatorDecisionAccepted, [OperatorDecision]>(OPERATOR_UPDATE, {
      args: [decision],
      ...(requestId ? { updateId: requestId } : {}),
    });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
      const refusal = REFUSALS[error.cause.type ?? ''];
      if (refusal) throw refusal(error.cause.message, error.cause.details?.[0]);
    }
    if (error instanceof WorkflowNotFoundError)
      throw new CodedError(Errors.part_not_active, { id: partId, state: 'has no running workflow' });
    throw error;
  }
}

/** An edited `participant` must name a registered participant (the workflow cannot ask SQL). */
async function checkParticipants(db: Db, edits: Record<string, unknown> | undefined): Promise<void> {
  const named = edits?.participant;
  if (typeof named !== 'string' || referencesIn(named).length > 0) return;
  if ((await existingParticipantIds(db, [named])).has(named)) return;
  const problem = { field: 'params.participant', message: `unknown participant "${named}"` };
  throw new CodedError(Errors.invalid_step_params, { problems: `${problem.field}: ${problem.message}` }, [problem]);
}
