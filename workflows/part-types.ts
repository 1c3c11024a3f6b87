// Types and names of the generic part workflow, shared with the API and the tests. Pure: bundled
// into the workflow sandbox.
import type { CompiledLifecycle, FieldProblem } from './definition.js';
import type { RoleBindings } from './role-bindings.js';
import type { ActivityPolicies, StepStatus } from './types.js';

export const PART_WORKFLOW_TYPE = 'part';
export const PART_RUN_STATE_QUERY = 'state';
export const CURRENT_STEP_QUERY = 'current-step';
export const STEP_RUNS_QUERY = 'step-runs';
export const VARIABLES_QUERY = 'variables';
export const OPERATOR_UPDATE = 'operator';

/** Names a definition may not use for events: the workflow's own queries and updates have them. */
export const RESERVED_EVENT_NAMES = [PART_RUN_STATE_QUERY, CURRENT_STEP_QUERY, STEP_RUNS_QUERY, VARIABLES_QUERY, OPERATOR_UPDATE];

export interface PartInput {
  partId: string;
  /** The compiled definition of the version the part is pinned to. */
  lifecycle: CompiledLifecycle;
  params: Record<string, unknown>;
  /** Which participant plays each role the steps name without a `participant:`, bound at start. */
  roles?: RoleBindings;
  policies: ActivityPolicies;
  /** The participant whose request started the part. */
  createdBy?: string;
  /** Continue as new once the history has this many events (default 10 000). */
  historyLimit?: number;
  /** Set when the workflow continued as new: where it was and what it knew. */
  resume?: ResumeState;
}

export interface ResumeState {
  position: number;
  state: PartRunState;
  /** Signals received for events no step was waiting for yet. */
  inbox: Record<string, unknown[]>;
}

export type PartRunStatus = 'running' | 'awaiting' | 'parked' | 'completed' | 'failed' | 'aborted';

export interface PartRunStep {
  id: string;
  kind: string;
  status: StepStatus;
  /** How many times the flow entered the step (loops enter it again). */
  runs: number;
  /** How many times an operator retried the step with edited parameters. */
  edits?: number;
  txHash?: string;
  output?: Record<string, unknown>;
  error?: { code: string; message: string };
}

export interface PartRunState {
  partId: string;
  lifecycle: { name: string; version: number };
  status: PartRunStatus;
  currentStep?: string;
  tokenId?: string;
  owner?: string;
  steps: PartRunStep[];
  /** `params` plus each finished step's output under its id. */
  variables: Record<string, unknown>;
  /** Signals whose payload the waiting step did not accept. */
  ignoredSignals: number;
  lastIgnoredSignal?: { event: string; problems: FieldProblem[] };
  lastDecision?: { step: string; action: string; reason?: string; actor?: string };
}

/** What an update to an `await` step answers. */
export interface AwaitAccepted {
  step: string;
  event: string;
  payload: Record<string, unknown>;
}

export type OperatorAction = 'retry' | 'skip' | 'abort';

/** An operator's decision on a parked step, sent as the `operator` update. */
export interface OperatorDecision {
  action: OperatorAction;
  /** The step the operator means; refused when the part is parked on another one. */
  step?: string;
  /** For `retry`: step parameters to use instead of the definition's (the kind's own parameters). */
  params?: Record<string, unknown>;
  /** Required to skip or abort. */
  reason?: string;
  /** Who decided; recorded in the audit trail. */
  actor?: string;
}

/** What the `operator` update answers once the workflow has taken the decision. */
export interface OperatorDecisionAccepted {
  action: OperatorAction;
  step?: string;
}
