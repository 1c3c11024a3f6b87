// The generic part workflow: interprets the compiled lifecycle definition it was started with, so a
// running part stays pinned to its version. Each chain step is a retried activity (part-steps);
// `await` steps wait for a named signal or update (part-inbox); a failed step parks the part for an
// operator (part-operator) or fails it. Long lifecycles continue as new with their state.
// Deterministic: no I/O here.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  deprecatePatch,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { END, conditionHolds } from './definition.js';
import type { CompiledStep } from './definition.js';
import { PartFailure, stepFailedMessage } from './failures.js';
import { registerEventHandlers } from './part-inbox.js';
import { awaitDecision, registerOperatorHandler } from './part-operator.js';
import { openRun, publishSearchAttributes } from './part-run.js';
import type { PartRun } from './part-run.js';
import { failureOf, runStep } from './part-steps.js';
import { CURRENT_STEP_QUERY, PART_RUN_STATE_QUERY, STEP_RUNS_QUERY, VARIABLES_QUERY } from './part-types.js';
import type { PartInput, PartRunState, PartRunStep } from './part-types.js';

export { operatorUpdate } from './part-operator.js';
export const partStateQuery = defineQuery<PartRunState>(PART_RUN_STATE_QUERY);
export const currentStepQuery = defineQuery<string | null>(CURRENT_STEP_QUERY);
export const stepRunsQuery = defineQuery<PartRunStep[]>(STEP_RUNS_QUERY);
export const variablesQuery = defineQuery<Record<string, unknown>>(VARIABLES_QUERY);

/**
 * Operator audit and search attributes were once behind this patch; no part ran without them, so
 * the old branch is gone. Deprecated (not removed) so histories that carry its marker still replay.
 */
const OPS_PATCH = 'ops-audit-and-search-attributes';

/** Start a new run once the history is this long, even before Temporal suggests it. */
const DEFAULT_HISTORY_LIMIT = 10_000;

export async function part(input: PartInput): Promise<PartRunState> {
  const run = openRun(input);
  deprecatePatch(OPS_PATCH);
  const { state, lifecycle } = run;
  setHandler(partStateQuery, () => state);
  setHandler(currentStepQuery, () => state.currentStep ?? null);
  setHandler(stepRunsQuery, () => state.steps);
  setHandler(variablesQuery, () => state.variables);
  registerEventHandlers(run);
  registerOperatorHandler(run);

  publishSearchAttributes(run);
  if (!input.resume) {
    const steps = lifecycle.steps.map((step) => ({ id: step.id, kind: step.kind }));
    const roles = input.roles ? { roles: input.roles } : {};
    await run.sql.startPart({
      partId: run.partId,
      lifecycle: state.lifecycle,
      params: input.params,
      steps,
      createdBy: input.createdBy,
      ...roles,
    });
  }

  while (run.position >= 0 && run.position < lifecycle.steps.length) {
    await continueAsNewIfLong(run);
    const step = lifecycle.steps[run.position]!;
    state.currentStep = step.id;
    publishSearchAttributes(run);
    if (step.when && !conditionHolds(step.when, state.variables)) {
      state.steps[run.position]!.status = 'skipped';
      await run.sql.recordStepStatus({ partId: run.partId, stepId: step.id, status: 'skipped' });
      run.position += 1;
      continue;
    }
    if ((await runUntilDecided(run, step)) === 'aborted') return state;
  }

  state.currentStep = undefined;
  state.status = 'completed';
  await run.sql.completePart({ partId: run.partId });
  publishSearchAttributes(run);
  await condition(allHandlersFinished);
  return state;
}

/** Continues as new (with the run's state) once the history grows long. */
async function continueAsNewIfLong(run: PartRun): Promise<void> {
  const info = workflowInfo();
  if (info.continueAsNewSuggested || info.historyLength > (run.input.historyLimit ?? DEFAULT_HISTORY_LIMIT)) {
    await condition(allHandlersFinished);
    await continueAsNew<typeof part>({ ...run.input, resume: { position: run.position, state: run.state, inbox: run.inbox } });
  }
}

/** Where the flow goes after `step` succeeds: its `next`, or the following step. */
function positionAfter(run: PartRun, step: CompiledStep): number {
  if (step.next === undefined) return run.position + 1;
  return step.next === END ? -1 : run.lifecycle.steps.findIndex((s) => s.id === step.next);
}

/**
 * Runs the step at the current position until it succeeds or an operator skips it (the position
 * moves on) or aborts the part. A failure the definition does not park fails the whole run.
 */
async function runUntilDecided(run: PartRun, step: CompiledStep): Promise<'moved' | 'aborted'> {
  const { state, partId } = run;
  const stepState = state.steps[run.position]!;
  const after = positionAfter(run, step);
  stepState.runs += 1;
  let overrides: Record<string, unknown> = {};
  for (;;) {
    stepState.status = 'running';
    stepState.error = undefined;
    try {
      const output = await runStep(run, step, stepState.runs, overrides);
      stepState.status = 'succeeded';
      stepState.output = output;
      stepState.txHash = typeof output.txHash === 'string' ? output.txHash : undefined;
      state.variables[step.id] = output;
      if (step.kind === 'await') await run.sql.recordStepStatus({ partId, stepId: step.id, status: 'succeeded', output });
      run.position = after;
      return 'moved';
    } catch (error) {
      const failure = failureOf(error);
      stepState.status = 'failed';
      stepState.error = failure;
      const park = step.onFailure === 'park';
      await run.sql.recordStepFailure({ partId, stepId: step.id, ...failure, outcome: park ? 'parked' : 'failed' });
      state.status = park ? 'parked' : 'failed';
      run.failureCode = failure.code;
      publishSearchAttributes(run);
      if (!park) throw ApplicationFailure.nonRetryable(stepFailedMessage(step.id, failure.message), PartFailure.StepFailed);

      const decision = await awaitDecision(run, step, stepState, failure);
      if (decision.action === 'abort') return 'aborted';
      if (decision.action === 'skip') {
        run.position += 1;
        return 'moved';
      }
      overrides = { ...overrides, ...(decision.params ?? {}) };
    }
  }
}
