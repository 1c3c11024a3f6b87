// The idempotency keys of step activities' chain writes: one per run of one step (and per edited
// retry), so a retried activity finds its earlier write instead of sending another. The input shape
// (StepCall) is the workflow's activity contract.
import type { StepCall } from '../workflows/activity-contract.js';

export type { StepCall };

/** An idempotency key for one run of one step's chain write. */
export function writeKey(kind: string, call: StepCall<unknown>, ...extra: string[]): string {
  const run = call.run > 1 ? [String(call.run)] : [];
  const revision = call.revision ? [`edit${call.revision}`] : [];
  return [kind, call.partId, call.stepId, ...extra, ...run, ...revision].join(':');
}

/** The key and origin of a step's chain write, spread into `TxSender.send`. */
export function stepWrite(
  kind: string,
  call: StepCall<unknown>,
  ...extra: string[]
): { key: string; origin: { partId: string; stepId: string } } {
  return { key: writeKey(kind, call, ...extra), origin: { partId: call.partId, stepId: call.stepId } };
}
