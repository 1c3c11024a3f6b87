// The shape of every step activity's input: which part, which step (and which run of it, for steps
// a loop repeats), and the step's parameters with references already resolved by the workflow.
export interface StepCall<P> {
  partId: string;
  stepId: string;
  /** 1 for the first run of the step; loops count up. Part of every idempotency key. */
  run: number;
  /**
   * How many times an operator retried this run with edited parameters (0 or absent: never). An
   * edited retry is a different write, so it gets a key of its own; a plain retry keeps the key and
   * so can never send the same write twice.
   */
  revision?: number;
  params: P;
}

/** An idempotency key for one run of one step's chain write. */
export function writeKey(kind: string, call: StepCall<unknown>, ...extra: string[]): string {
  const run = call.run > 1 ? [String(call.run)] : [];
  const revision = call.revision ? [`edit${call.revision}`] : [];
  return [kind, call.partId, call.stepId, ...extra, ...run, ...revision].join(':');
}

/** The key and origin of a step's chain write, spread into `TxSender.send`. */
export function stepWrite(kind: string, call: StepCall<unknown>, ...extra: string[]): { key: string; origin: { partId: string; stepId: string } } {
  return { key: writeKey(kind, call, ...extra), origin: { partId: call.partId, stepId: call.stepId } };
}
