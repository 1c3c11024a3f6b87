// The shape of every step activity's input: which part, which step (and which run of it, for steps
// a loop repeats), and the step's parameters with references already resolved by the workflow.
export interface StepCall<P> {
  partId: string;
  stepId: string;
  /** 1 for the first run of the step; loops count up. Part of every idempotency key. */
  run: number;
  params: P;
}

/** An idempotency key for one run of one step's chain write. */
export function writeKey(kind: string, call: StepCall<unknown>, ...extra: string[]): string {
  return [kind, call.partId, call.stepId, ...extra, ...(call.run > 1 ? [String(call.run)] : [])].join(':');
}
