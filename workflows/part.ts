// The generic part workflow: interprets the compiled lifecycle definition it was started with, so a
// running part stays pinned to its version. Each chain step is a retried activity; `await` steps wait
// for a named signal or update; a failed step parks the part for an operator (or fails it). Long
// lifecycles continue as new with their state. Deterministic: no I/O here.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  currentUpdateInfo,
  deprecatePatch,
  defineQuery,
  defineSignal,
  defineUpdate,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import type { OperatorDecisionRecord } from '../activities/part-records.js';
import { checkStepEdits } from '../domain/lifecycles/step-edits.js';
import { activityOptions, describeFailure } from './activity-options.js';
import { END, UnresolvedReferenceError, checkFields, conditionHolds, resolveValue } from './definition.js';
import type { CompiledStep, FieldProblem, FieldSpecs, LifecycleStepKind } from './definition.js';
import {
  CURRENT_STEP_QUERY,
  OPERATOR_UPDATE,
  PART_RUN_STATE_QUERY,
  STEP_RUNS_QUERY,
  VARIABLES_QUERY,
} from './part-types.js';
import type { AwaitAccepted, OperatorDecision, OperatorDecisionAccepted, PartInput, PartRunState, PartRunStep, ResumeState } from './part-types.js';
import { ERROR_CODE_ATTRIBUTE, LIFECYCLE_ATTRIBUTE, LIFECYCLE_VERSION_ATTRIBUTE, PART_ID_ATTRIBUTE, STATUS_ATTRIBUTE, STEP_ATTRIBUTE } from './search-attributes.js';
import { PartFailure } from './failures.js';

export const partStateQuery = defineQuery<PartRunState>(PART_RUN_STATE_QUERY);
export const currentStepQuery = defineQuery<string | null>(CURRENT_STEP_QUERY);
export const stepRunsQuery = defineQuery<PartRunStep[]>(STEP_RUNS_QUERY);
export const variablesQuery = defineQuery<Record<string, unknown>>(VARIABLES_QUERY);
export const operatorUpdate = defineUpdate<OperatorDecisionAccepted, [OperatorDecision]>(OPERATOR_UPDATE);

/** The activity that runs each chain step kind. */
const STEP_ACTIVITIES: Record<Exclude<LifecycleStepKind, 'await'>, keyof Activities> = {
  mint: 'mintStep',
  transfer: 'transferStep',
  record: 'recordStep',
  'attach-certificate': 'attachCertificateStep',
  certify: 'certifyStep',
  bundle: 'bundleStep',
  unbundle: 'unbundleStep',
  assemble: 'assembleStep',
  decommission: 'decommissionStep',
};

/**
 * Operator audit and search attributes were once behind this patch; no part ran without them, so
 * the old branch is gone. Deprecated (not removed) so histories that carry its marker still replay.
 */
const OPS_PATCH = 'ops-audit-and-search-attributes';

/** Start a new run once the history is this long, even before Temporal suggests it. */
const DEFAULT_HISTORY_LIMIT = 10_000;

class StepFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The audit row of an operator's decision on a failed step: who, what, why, before and after. */
function auditOf(
  decision: OperatorDecision & { requestId: string },
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
    before: { partStatus: 'parked', step: { status: 'failed', run: failed.run, error: failed.failure, ...(failed.params ? { params: failed.params } : {}) } },
    after: {
      partStatus: decision.action === 'abort' ? 'aborted' : 'active',
      step: { status: { retry: 'retrying', skip: 'skipped', abort: 'failed' }[decision.action], ...edits },
    },
  };
}

export async function part(input: PartInput): Promise<PartRunState> {
  const { lifecycle, partId, policies } = input;
  const sql = proxyLocalActivities<Activities>(activityOptions(policies.default));
  const resume: ResumeState | undefined = input.resume;
  deprecatePatch(OPS_PATCH);

  const state: PartRunState = resume?.state ?? {
    partId,
    lifecycle: { name: lifecycle.name, version: lifecycle.version },
    status: 'running',
    steps: lifecycle.steps.map((step) => ({ id: step.id, kind: step.kind, status: 'pending', runs: 0 })),
    variables: { params: input.params },
    ignoredSignals: 0,
  };
  const inbox: Record<string, unknown[]> = resume?.inbox ?? {};
  let position = resume?.position ?? 0;
  /** An event delivered to the step that is waiting for it. */
  let delivered: { payload: Record<string, unknown>; via: 'signal' | 'update' } | undefined;
  let decision: (OperatorDecision & { requestId: string }) | undefined;
  /** The error code of the step the part is parked or failed on. */
  let failureCode: string | null = null;

  const stepAt = (index: number) => lifecycle.steps[index]!;
  const waitingStep = (event: string): CompiledStep | undefined => {
    if (state.status !== 'awaiting' || delivered) return undefined;
    const step = stepAt(position);
    return step.kind === 'await' && step.params.event === event ? step : undefined;
  };

  setHandler(partStateQuery, () => state);
  setHandler(currentStepQuery, () => state.currentStep ?? null);
  setHandler(stepRunsQuery, () => state.steps);
  setHandler(variablesQuery, () => state.variables);

  // One signal and one update per event name the definition awaits, registered from the definition.
  const events = [...new Set(lifecycle.steps.filter((s) => s.kind === 'await').map((s) => s.params.event as string))];
  for (const event of events) {
    setHandler(defineSignal<[Record<string, unknown>]>(event), (payload) => {
      (inbox[event] ??= []).push(payload);
    });
    setHandler(
      defineUpdate<AwaitAccepted, [Record<string, unknown>]>(event),
      (payload) => {
        // State changes belong here, not in the validator: validators do not run on replay.
        const step = waitingStep(event)!;
        delivered = { payload, via: 'update' };
        return { step: step.id, event, payload };
      },
      {
        validator: (payload) => {
          const step = waitingStep(event);
          if (!step) {
            const where = state.status === 'awaiting' ? `step "${state.currentStep}"` : state.currentStep ? `step "${state.currentStep}" (${state.status})` : state.status;
            throw ApplicationFailure.nonRetryable(`part ${partId} is not waiting for "${event}" now; it is at ${where}`, PartFailure.NotAwaiting);
          }
          const problems = checkFields(step.params.payload as FieldSpecs, payload);
          if (problems.length > 0) {
            throw ApplicationFailure.nonRetryable(problems.map((p) => `${p.field}: ${p.message}`).join('; '), PartFailure.InvalidPayload, problems);
          }
        },
      },
    );
  }

  setHandler(
    operatorUpdate,
    (request) => {
      // Edits arrive in the definition's vocabulary; the step runs on their compiled form.
      const edits = request.params === undefined ? undefined : checkStepEdits(stepAt(position).kind, request.params);
      decision = { ...request, params: edits?.ok ? edits.params : request.params, requestId: currentUpdateInfo()?.id ?? '' };
      return { action: request.action, step: state.currentStep };
    },
    {
      validator: (request) => {
        if (state.status !== 'parked') {
          throw ApplicationFailure.nonRetryable(`part ${partId} is ${state.status}${state.currentStep ? ` at step "${state.currentStep}"` : ''}, not parked`, PartFailure.NotParked);
        }
        if (!['retry', 'skip', 'abort'].includes(request?.action)) throw ApplicationFailure.nonRetryable('action: one of retry, skip, abort', PartFailure.InvalidDecision);
        if (request.step !== undefined && request.step !== state.currentStep) {
          throw ApplicationFailure.nonRetryable(`step "${request.step}" is not the failed step; part ${partId} is parked on "${state.currentStep}"`, PartFailure.WrongStep);
        }
        if (request.action !== 'retry' && !request.reason) throw ApplicationFailure.nonRetryable(`reason: required to ${request.action}`, PartFailure.InvalidDecision);
        if (request.params !== undefined) {
          if (request.action !== 'retry') throw ApplicationFailure.nonRetryable(`params: only a retry takes edited step parameters, not ${request.action}`, PartFailure.InvalidDecision);
          const edits = checkStepEdits(stepAt(position).kind, request.params);
          if (!edits.ok) throw ApplicationFailure.nonRetryable(edits.problems.map((p) => `${p.field}: ${p.message}`).join('; '), PartFailure.InvalidStepParams, edits.problems);
        }
      },
    },
  );

  /** Search attributes as last sent, so only changes are upserted. */
  const published: Record<string, unknown> = {};
  const publishSearchAttributes = () => {
    const wanted: SearchAttributeUpdatePair[] = [
      { key: PART_ID_ATTRIBUTE, value: partId },
      { key: LIFECYCLE_ATTRIBUTE, value: lifecycle.name },
      { key: LIFECYCLE_VERSION_ATTRIBUTE, value: lifecycle.version },
      { key: STEP_ATTRIBUTE, value: state.currentStep ?? null },
      { key: STATUS_ATTRIBUTE, value: state.status },
      { key: ERROR_CODE_ATTRIBUTE, value: failureCode },
    ];
    const changed = wanted.filter((pair) => published[pair.key.name] !== pair.value);
    if (changed.length === 0) return;
    for (const pair of changed) published[pair.key.name] = pair.value;
    upsertSearchAttributes(changed);
  };

  /** Takes the first signal payload the waiting step accepts; others are counted and dropped. */
  const takeFromInbox = (step: CompiledStep): boolean => {
    const queue = inbox[step.params.event as string] ?? [];
    while (queue.length > 0) {
      const payload = queue.shift();
      const problems: FieldProblem[] = checkFields(step.params.payload as FieldSpecs, payload);
      if (problems.length === 0) {
        delivered = { payload: payload as Record<string, unknown>, via: 'signal' };
        return true;
      }
      state.ignoredSignals += 1;
      state.lastIgnoredSignal = { event: step.params.event as string, problems };
    }
    return false;
  };

  const runAwait = async (step: CompiledStep): Promise<Record<string, unknown>> => {
    delivered = undefined;
    // The mirror first, then the live state: whoever sees `awaiting` finds SQL saying so too.
    await sql.recordStepStatus({ partId, stepId: step.id, status: 'running' });
    state.status = 'awaiting';
    publishSearchAttributes();
    const ready = () => delivered !== undefined || takeFromInbox(step);
    const arrived = step.timeoutMs === undefined ? (await condition(ready), true) : await condition(ready, step.timeoutMs);
    state.status = 'running';
    if (!arrived) throw new StepFailure('AwaitTimedOut', `no "${step.params.event}" arrived within ${step.timeoutMs} ms`);
    const output = { ...delivered!.payload };
    delivered = undefined;
    return output;
  };

  const runActivity = async (step: CompiledStep, params: Record<string, unknown>, run: number): Promise<Record<string, unknown>> => {
    const kind = step.kind as Exclude<LifecycleStepKind, 'await'>;
    const activities = proxyActivities<Activities>(activityOptions(policies.chain, step));
    const activity = activities[STEP_ACTIVITIES[kind]] as (call: unknown) => Promise<Record<string, unknown>>;
    const revision = state.steps[position]!.edits;
    const output = await activity({ partId, stepId: step.id, run, params, ...(revision ? { revision } : {}) });
    if (kind === 'mint') {
      state.tokenId = output.tokenId as string;
      state.owner = output.owner as string;
    }
    if (kind === 'transfer' && output.part === partId) state.owner = output.owner as string;
    return output;
  };

  /** The resolved parameters of the step's latest attempt, for the audit trail. */
  let attemptParams: Record<string, unknown> | undefined;
  const runStep = async (step: CompiledStep, run: number, overrides: Record<string, unknown>): Promise<Record<string, unknown>> => {
    attemptParams = undefined;
    if (step.kind === 'await') return runAwait(step);
    let params: Record<string, unknown>;
    try {
      params = resolveValue({ ...step.params, ...overrides }, state.variables) as Record<string, unknown>;
      attemptParams = params;
    } catch (error) {
      if (error instanceof UnresolvedReferenceError) throw new StepFailure('UnresolvedReference', error.message);
      throw error;
    }
    return runActivity(step, params, run);
  };

  publishSearchAttributes();
  if (!resume) {
    await sql.startPart({
      partId,
      lifecycle: state.lifecycle,
      params: input.params,
      steps: lifecycle.steps.map((step) => ({ id: step.id, kind: step.kind })),
      createdBy: input.createdBy,
    });
  }

  while (position >= 0 && position < lifecycle.steps.length) {
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > (input.historyLimit ?? DEFAULT_HISTORY_LIMIT)) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof part>({ ...input, resume: { position, state, inbox } });
    }

    const step = stepAt(position);
    const stepState = state.steps[position]!;
    state.currentStep = step.id;
    publishSearchAttributes();
    const after = step.next === undefined ? position + 1 : step.next === END ? -1 : lifecycle.steps.findIndex((s) => s.id === step.next);

    if (step.when && !conditionHolds(step.when, state.variables)) {
      stepState.status = 'skipped';
      await sql.recordStepStatus({ partId, stepId: step.id, status: 'skipped' });
      position += 1;
      continue;
    }

    stepState.runs += 1;
    let overrides: Record<string, unknown> = {};
    for (;;) {
      stepState.status = 'running';
      stepState.error = undefined;
      try {
        const output = await runStep(step, stepState.runs, overrides);
        stepState.status = 'succeeded';
        stepState.output = output;
        stepState.txHash = typeof output.txHash === 'string' ? output.txHash : undefined;
        state.variables[step.id] = output;
        if (step.kind === 'await') await sql.recordStepStatus({ partId, stepId: step.id, status: 'succeeded', output });
        position = after;
        break;
      } catch (error) {
        const failure = error instanceof StepFailure ? { code: error.code, message: error.message } : describeFailure(error);
        stepState.status = 'failed';
        stepState.error = failure;
        const park = step.onFailure === 'park';
        await sql.recordStepFailure({ partId, stepId: step.id, ...failure, outcome: park ? 'parked' : 'failed' });
        state.status = park ? 'parked' : 'failed';
        failureCode = failure.code;
        publishSearchAttributes();
        if (!park) throw ApplicationFailure.nonRetryable(`step ${step.id} failed: ${failure.message}`, PartFailure.StepFailed);

        decision = undefined;
        await condition(() => decision !== undefined);
        const chosen = decision!;
        state.lastDecision = { step: step.id, action: chosen.action, reason: chosen.reason, actor: chosen.actor };
        const edited = chosen.action === 'retry' && Object.keys(chosen.params ?? {}).length > 0;
        // The audit row and the state change it describes are one SQL transaction.
        await sql.recordOperatorDecision(auditOf(chosen, { partId, stepId: step.id, run: stepState.runs, failure, params: attemptParams }));
        failureCode = null;
        if (chosen.action === 'abort') {
          state.status = 'aborted';
          publishSearchAttributes();
          return state;
        }
        state.status = 'running';
        publishSearchAttributes();
        if (chosen.action === 'skip') {
          stepState.status = 'skipped';
          position = position + 1;
          break;
        }
        if (edited) stepState.edits = (stepState.edits ?? 0) + 1;
        overrides = { ...overrides, ...(chosen.params ?? {}) };
      }
    }
  }

  state.currentStep = undefined;
  state.status = 'completed';
  await sql.completePart({ partId });
  publishSearchAttributes();
  await condition(allHandlersFinished);
  return state;
}
