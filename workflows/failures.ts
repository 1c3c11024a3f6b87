// The failure types the part workflow raises: an update it refuses, or a run it ends. Callers match
// these constants (never the string at the use site); the error catalogue maps each to its answer.
export const PartFailure = {
  /** An inbox update or signal for an event the part is not waiting for now. */
  NotAwaiting: 'NotAwaiting',
  /** An event's payload that breaks the awaited step's field declarations. */
  InvalidPayload: 'InvalidPayload',
  /** An operator decision for a part that is not parked on a failed step. */
  NotParked: 'NotParked',
  /** An operator decision that is not retry, skip or abort, or lacks its reason. */
  InvalidDecision: 'InvalidDecision',
  /** An operator decision naming another step than the failed one. */
  WrongStep: 'WrongStep',
  /** Edited step parameters on a retry that the step's kind does not accept. */
  InvalidStepParams: 'InvalidStepParams',
  /** A step failed and the lifecycle says not to park (the run fails). */
  StepFailed: 'StepFailed',
} as const;

export type PartFailureType = (typeof PartFailure)[keyof typeof PartFailure];

/** The message of a part's `StepFailed` failure (its lifecycle says `onFailure: fail`). */
export const stepFailedMessage = (stepId: string, message: string): string => `step ${stepId} failed: ${message}`;

/**
 * Whether an error that left the workflow sandbox is a part's `StepFailed`: only its stack survives
 * the trip to the worker's logger (no failure type), and it starts with the class and this message.
 */
export const isStepFailedStack = (stack: string): boolean => /^ApplicationFailure: step \S+ failed: /.test(stack);
