// The generic part workflow: interprets the compiled lifecycle definition it was started with, so a
// running part stays pinned to its version. Each chain step is a retried activity; `await` steps wait
// for a named signal or update; a failed step parks the part for an operator (or fails it). Long
// lifecycles continue as new with their state. Deterministic: no I/O here.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
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
import type { AwaitAccepted, OperatorDecision, PartInput, PartRunState, PartRunStep, ResumeState } from './part-types.js';

export const partStateQuery = defineQuery<PartRunState>(PART_RUN_STATE_QUERY);
export const currentStepQuery = defineQuery<string | null>(CURRENT_STEP_QUERY);
export const stepRunsQuery = defineQuery<PartRunStep[]>(STEP_RUNS_QUERY);
export const variablesQuery = defineQuery<Record<string, unknown>>(VARIABLES_QUERY);
export const operatorUpdate = defineUpdate<{ action: string }, [OperatorDecision]>(OPERATOR_UPDATE);

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
};

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

export async function part(input: PartInput): Promise<PartRunState> {
  const { lifecycle, partId, policies } = input;
  const sql = proxyLocalActivities<Activities>(activityOptions(policies.default));
  const resume: ResumeState | undefined = input.resume;

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
  let decision: OperatorDecision | undefined;

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
            throw ApplicationFailure.nonRetryable(`part ${partId} is not waiting for "${event}" now; it is at ${where}`, 'NotAwaiting');
          }
          const problems = checkFields(step.params.payload as FieldSpecs, payload);
          if (problems.length > 0) {
            throw ApplicationFailure.nonRetryable(problems.map((p) => `${p.field}: ${p.message}`).join('; '), 'InvalidPayload', problems);
          }
        },
      },
    );
  }

  setHandler(
    operatorUpdate,
    (request) => {
      decision = request;
      return { action: request.action };
    },
    {
      validator: (request) => {
        if (state.status !== 'parked') throw ApplicationFailure.nonRetryable(`part ${partId} is ${state.status}, not parked`, 'NotParked');
        if (!['retry', 'skip', 'abort'].includes(request?.action)) throw ApplicationFailure.nonRetryable('action: one of retry, skip, abort', 'InvalidDecision');
        if (request.action !== 'retry' && !request.reason) throw ApplicationFailure.nonRetryable(`reason: required to ${request.action}`, 'InvalidDecision');
        if (request.params !== undefined && (typeof request.params !== 'object' || request.params === null || Array.isArray(request.params))) {
          throw ApplicationFailure.nonRetryable('params: an object of step parameters', 'InvalidDecision');
        }
      },
    },
  );

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
    const output = await activity({ partId, stepId: step.id, run, params });
    if (kind === 'mint') {
      state.tokenId = output.tokenId as string;
      state.owner = output.owner as string;
    }
    if (kind === 'transfer' && output.part === partId) state.owner = output.owner as string;
    return output;
  };

  const runStep = async (step: CompiledStep, run: number, overrides: Record<string, unknown>): Promise<Record<string, unknown>> => {
    if (step.kind === 'await') return runAwait(step);
    let params: Record<string, unknown>;
    try {
      params = { ...(resolveValue(step.params, state.variables) as Record<string, unknown>), ...overrides };
    } catch (error) {
      if (error instanceof UnresolvedReferenceError) throw new StepFailure('UnresolvedReference', error.message);
      throw error;
    }
    return runActivity(step, params, run);
  };

  if (!resume) {
    await sql.startPart({
      partId,
      lifecycle: state.lifecycle,
      params: input.params,
      steps: lifecycle.steps.map((step) => ({ id: step.id, kind: step.kind })),
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
        if (!park) throw ApplicationFailure.nonRetryable(`step ${step.id} failed: ${failure.message}`, 'StepFailed');

        decision = undefined;
        await condition(() => decision !== undefined);
        const chosen = decision!;
        state.lastDecision = { step: step.id, action: chosen.action, reason: chosen.reason };
        if (chosen.action === 'abort') {
          state.status = 'aborted';
          await sql.setPartStatus({ partId, status: 'aborted' });
          return state;
        }
        state.status = 'running';
        await sql.setPartStatus({ partId, status: 'active' });
        if (chosen.action === 'skip') {
          stepState.status = 'skipped';
          await sql.recordStepStatus({ partId, stepId: step.id, status: 'skipped' });
          position = position + 1;
          break;
        }
        overrides = { ...overrides, ...(chosen.params ?? {}) };
      }
    }
  }

  state.currentStep = undefined;
  state.status = 'completed';
  await sql.completePart({ partId });
  await condition(allHandlersFinished);
  return state;
}
