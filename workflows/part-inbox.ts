// How an `await` step gets its event: one signal and one update per event name the definition
// awaits. An update is accepted only while its step waits (its validator refuses otherwise); a
// signal is kept in the inbox until a step waits for it, and one whose payload the step does not
// accept is counted and dropped. Deterministic: workflow sandbox.
import { ApplicationFailure, condition, defineSignal, defineUpdate, setHandler } from '@temporalio/workflow';
import { checkFields } from './definition.js';
import type { CompiledStep, FieldSpecs } from './definition.js';
import { PartFailure } from './failures.js';
import { StepFailure, publishSearchAttributes, stepAt } from './part-run.js';
import type { PartRun } from './part-run.js';
import type { AwaitAccepted } from './part-types.js';

/** The step waiting for `event` now, if any (and nothing was delivered to it yet). */
function waitingStep(run: PartRun, event: string): CompiledStep | undefined {
  if (run.state.status !== 'awaiting' || run.delivered) return undefined;
  const step = stepAt(run);
  return step.kind === 'await' && step.params.event === event ? step : undefined;
}

function notAwaiting(run: PartRun, event: string): ApplicationFailure {
  const { state } = run;
  const where =
    state.status === 'awaiting'
      ? `step "${state.currentStep}"`
      : state.currentStep
        ? `step "${state.currentStep}" (${state.status})`
        : state.status;
  return ApplicationFailure.nonRetryable(
    `part ${run.partId} is not waiting for "${event}" now; it is at ${where}`,
    PartFailure.NotAwaiting,
  );
}

/** Registers the signal and the update of every event the definition awaits. */
export function registerEventHandlers(run: PartRun): void {
  const events = [...new Set(run.lifecycle.steps.filter((s) => s.kind === 'await').map((s) => s.params.event as string))];
  for (const event of events) {
    setHandler(defineSignal<[Record<string, unknown>]>(event), (payload) => {
      (run.inbox[event] ??= []).push(payload);
    });
    setHandler(
      defineUpdate<AwaitAccepted, [Record<string, unknown>]>(event),
      (payload) => {
        // State changes belong here, not in the validator: validators do not run on replay.
        const step = waitingStep(run, event)!;
        run.delivered = { payload, via: 'update' };
        return { step: step.id, event, payload };
      },
      {
        validator: (payload) => {
          const step = waitingStep(run, event);
          if (!step) throw notAwaiting(run, event);
          const problems = checkFields(step.params.payload as FieldSpecs, payload);
          if (problems.length > 0) {
            throw ApplicationFailure.nonRetryable(
              problems.map((p) => `${p.field}: ${p.message}`).join('; '),
              PartFailure.InvalidPayload,
              problems,
            );
          }
        },
      },
    );
  }
}

/** Takes the first signal payload the waiting step accepts; others are counted and dropped. */
function takeFromInbox(run: PartRun, step: CompiledStep): boolean {
  const event = step.params.event as string;
  const queue = run.inbox[event] ?? [];
  while (queue.length > 0) {
    const payload = queue.shift();
    const problems = checkFields(step.params.payload as FieldSpecs, payload);
    if (problems.length === 0) {
      run.delivered = { payload: payload as Record<string, unknown>, via: 'signal' };
      return true;
    }
    run.state.ignoredSignals += 1;
    run.state.lastIgnoredSignal = { event, problems };
  }
  return false;
}

/** Runs an `await` step: waits (within its timeout) for its event and answers the payload. */
export async function runAwait(run: PartRun, step: CompiledStep): Promise<Record<string, unknown>> {
  run.delivered = undefined;
  // The mirror first, then the live state: whoever sees `awaiting` finds SQL saying so too.
  await run.sql.recordStepStatus({ partId: run.partId, stepId: step.id, status: 'running' });
  run.state.status = 'awaiting';
  publishSearchAttributes(run);
  const ready = () => run.delivered !== undefined || takeFromInbox(run, step);
  const arrived = step.timeoutMs === undefined ? (await condition(ready), true) : await condition(ready, step.timeoutMs);
  run.state.status = 'running';
  if (!arrived) throw new StepFailure('AwaitTimedOut', `no "${step.params.event}" arrived within ${step.timeoutMs} ms`);
  const output = { ...run.delivered!.payload };
  run.delivered = undefined;
  return output;
}
