// Types shared by the workflow, the activities and the API. Pure types and constants only: this file
// is bundled into the deterministic workflow sandbox.

/** Activity timeout and retry policy, in milliseconds, as resolved from temporal.yaml at start. */
export interface ActivityPolicy {
  startToCloseTimeoutMs: number;
  retry: {
    initialIntervalMs: number;
    backoffCoefficient: number;
    maximumIntervalMs: number;
    maximumAttempts: number;
    nonRetryableErrorTypes: string[];
  };
}

export interface ActivityPolicies {
  /** SQL-only steps. */
  default: ActivityPolicy;
  /** Steps that write to the chain. */
  chain: ActivityPolicy;
}

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';
