// The operator loop: a step that failed with `onFailure: park` waits for an operator's decision
// (retry, with edited parameters or not; skip; abort), sent as the `operator` update. The update's
// validator refuses what cannot apply; its handler takes the decision; the loop audits it in the
// same SQL transaction as the state change it leads to. Deterministic: workflow sandbox.
import { ApplicationFailure, condition, currentUpdateInfo, defineUpdate, setHandler } from '@temporalio/workflow';
import type { OperatorDecisionRecord } from './activity-contract.js';
import { PartFailure } from './failures.js';
import { publishSearchAttributes, stepAt } from './part-run.js';
import type { PartRun } from './part-run.js';
import { OPERATOR_UPDATE } from './part-types.js';
import type { OperatorDecision, OperatorDecisionAccepted, PartRunStep } from './part-types.js';
import { checkStepEdits } from './step-edits.js';
import type { CompiledStep } from './definition.js';

export const operatorUpdate = defineUpdate<OperatorDecisionAccepted, [OperatorDecision]>(OPERATOR_UPDATE);

type Decision = OperatorDecision & { requestId: string };

/** Why a decision cannot apply to the part as it stands, or nothing when it can. */
function refusal(run: PartRun, request: OperatorDecision): ApplicationFailure | undefined {
  const { state, partId } = run;
  if (state.status !== 'parked') {
    return ApplicationFailure.nonRetryable(
      `part ${partId} is ${state.status}${state.currentStep ? ` at step "${state.currentStep}"` : ''}, not parked`,
      PartFailure.NotParked,
    );
  }
  if (!['retry', 'skip', 'abort'].includes(request?.action))
    return ApplicationFailure.nonRetryable('action: one of retry, skip, abort', PartFailure.InvalidDecision);
  if (request.step !== undefined && request.step !== state.currentStep) {
    return ApplicationFailure.nonRetryable(
      `step "${request.step}" is not the failed step; part ${partId} is parked on "${state.currentStep}"`,
      PartFailure.WrongStep,
    );
  }
  if (request.action !== 'retry' && !request.reason)
    return ApplicationFailure.nonRetryable(`reason: required to ${request.action}`, PartFailure.InvalidDecision);
  if (request.params === undefined) return undefined;
  if (request.action !== 'retry')
    return ApplicationFailure.nonRetryable(
      `params: only a retry takes edited step parameters, not ${request.action}`,
      PartFailure.InvalidDecision,
    );
  const edits = checkStepEdits(stepAt(run).kind, request.params);
  if (!edits.ok)
    return ApplicationFailure.nonRetryable(
      edits.problems.map((p) => `${p.field}: ${p.message}`).join('; '),
      PartFailure.InvalidStepParams,
      edits.problems,
    );
  return undefined;
}

/** Registers the `operator` update. */
export function registerOperatorHandler(run: PartRun): void {
  setHandler(
    operatorUpdate,
    (request) => {
      // Edits arrive in the definition's vocabulary; the step runs on their compiled form.
      const edits = request.params === undefined ? undefined : checkStepEdits(stepAt(run).kind, request.params);
      run.decision = { ...request, params: edits?.ok ? edits.params : request.params, requestId: currentUpdateInfo()?.id ?? '' };
      return { action: request.action, step: run.state.currentStep };
    },
    {
      validator: (request) => {
        const refused = refusal(run, request);
        if (refused) throw refused;
      },
    },
  );
}

/** The audit row of an operator's decision on a failed step: who, what, why, before and after. */
export function auditOf(
  decision: Decision,
  failed: { partId: string; stepId: string; run: number; failure: { code: string; message: string }; params?: Record<string, unknown> },
): OperatorDecisionRecord {
  const edits = decision.action === 'retry' && Object.keys(decision.params ?? {}).length > 0 ? { edits: decision.params } : {};
  return {
    requestId: decision.requestId,
    partId: failed.partId,
    stepId: failed.stepId,
    action: decision.action,
    actor: decision.actor ?? 'unknown',
    reason: decision.reason ?? null,
    before: {
      partStatus: 'parked',
      step: { status: 'failed', run: failed.run, error: failed.failure, ...(failed.params ? { params: failed.params } : {}) },
    },
    after: {
      partStatus: decision.action === 'abort' ? 'aborted' : 'active',
      step: { status: { retry: 'retrying', skip: 'skipped', abort: 'failed' }[decision.action], ...edits },
    },
  };
}

/**
 * Waits for the operator's decision on the parked step, audits it and applies it to the part's
 * state. Answers the decision; for a retry, its edits have been counted on the step.
 */
export async function awaitDecision(
  run: PartRun,
  step: CompiledStep,
  stepState: PartRunStep,
  failure: { code: string; message: string },
): Promise<Decision> {
  run.decision = undefined;
  await condition(() => run.decision !== undefined);
  const chosen = run.decision!;
  const { state } = run;
  state.lastDecision = { step: step.id, action: chosen.action, reason: chosen.reason, actor: chosen.actor };
  // The audit row and the state change it describes are one SQL transaction.
  await run.sql.recordOperatorDecision(
    auditOf(chosen, { partId: run.partId, stepId: step.id, run: stepState.runs, failure, params: run.attemptParams }),
  );
  run.failureCode = null;
  state.status = chosen.action === 'abort' ? 'aborted' : 'running';
  publishSearchAttributes(run);
  if (chosen.action === 'skip') stepState.status = 'skipped';
  if (chosen.action === 'retry' && Object.keys(chosen.params ?? {}).length > 0) stepState.edits = (stepState.edits ?? 0) + 1;
  return chosen;
}
