// The step runner: one attempt at a step, an `await` in the workflow itself, every other kind as
// the activity the step-kind registry names (with the step's own timeout and retry policy), its
// `${...}` references resolved against the part's variables first. Deterministic: workflow sandbox.
import { proxyActivities } from '@temporalio/workflow';
import type { StepActivities, StepCall, StepOutput } from './activity-contract.js';
import { activityOptions, describeFailure } from './activity-options.js';
import { UnresolvedReferenceError, resolveValue } from './definition.js';
import type { CompiledStep } from './definition.js';
import { runAwait } from './part-inbox.js';
import { withBoundParticipant } from './role-bindings.js';
import { StepFailure } from './part-run.js';
import type { PartRun } from './part-run.js';
import { stepKindSpec } from './step-kinds.js';
import type { StepActivityName } from './step-kinds.js';

/** The error code and message a failed attempt leaves on its step. */
export function failureOf(error: unknown): { code: string; message: string } {
  return error instanceof StepFailure ? { code: error.code, message: error.message } : describeFailure(error);
}

/** The step's parameters with the operator's edits over them, references resolved. */
function resolvedParams(run: PartRun, step: CompiledStep, overrides: Record<string, unknown>): Record<string, unknown> {
  try {
    const params = resolveValue({ ...step.params, ...overrides }, run.state.variables) as Record<string, unknown>;
    return withBoundParticipant(step, params, run.input.roles);
  } catch (error) {
    if (error instanceof UnresolvedReferenceError) throw new StepFailure('UnresolvedReference', error.message);
    throw error;
  }
}

async function runActivity(run: PartRun, step: CompiledStep, params: Record<string, unknown>, attempt: number): Promise<StepOutput> {
  const activities = proxyActivities<StepActivities>(activityOptions(run.input.policies.chain, step));
  const activity = activities[stepKindSpec(step.kind).activity as StepActivityName];
  const revision = run.state.steps[run.position]!.edits;
  const call: StepCall = { partId: run.partId, stepId: step.id, run: attempt, params, ...(revision ? { revision } : {}) };
  const output = await activity(call);
  // The part's own token: who holds it is part of the visible state.
  if (step.kind === 'mint') {
    run.state.tokenId = output.tokenId as string;
    run.state.owner = output.owner as string;
  }
  if (step.kind === 'transfer' && output.part === run.partId) run.state.owner = output.owner as string;
  return output;
}

/** One attempt at the step (`runs` counts the flow's entries into it); answers its output. */
export async function runStep(run: PartRun, step: CompiledStep, runs: number, overrides: Record<string, unknown>): Promise<StepOutput> {
  run.attemptParams = undefined;
  if (step.kind === 'await') return runAwait(run, step);
  const params = resolvedParams(run, step, overrides);
  run.attemptParams = params;
  return runActivity(run, step, params, runs);
}
