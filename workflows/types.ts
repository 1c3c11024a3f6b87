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

export type StepKind = 'register' | 'mint' | 'transfer';

export interface StepDefinition {
  id: string;
  kind: StepKind;
}

export interface LifecycleDefinition {
  name: string;
  version: number;
  steps: StepDefinition[];
}

/** The first lifecycle: register the part, mint its token to its first owner, transfer it once. */
export const BASIC_LIFECYCLE: LifecycleDefinition = {
  name: 'part-basic',
  version: 1,
  steps: [
    { id: 'register', kind: 'register' },
    { id: 'mint', kind: 'mint' },
    { id: 'transfer', kind: 'transfer' },
  ],
};

export interface PartLifecycleInput {
  partId: string;
  /** Participant that receives the freshly minted token. */
  ownerId: string;
  /** When given, the transfer step runs at once; otherwise it waits for the `transfer` update. */
  transferTo?: string;
  metadata: Record<string, unknown>;
  lifecycle: LifecycleDefinition;
  policies: ActivityPolicies;
}

export type StepStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';

export interface StepState {
  id: string;
  kind: StepKind;
  status: StepStatus;
  txHash?: string;
  error?: { code: string; message: string };
}

export type PartWorkflowStatus = 'running' | 'awaiting-transfer' | 'completed' | 'failed';

export interface PartState {
  partId: string;
  lifecycle: string;
  lifecycleVersion: number;
  status: PartWorkflowStatus;
  ownerId: string;
  tokenId?: string;
  currentStep?: string;
  steps: StepState[];
}

export interface TransferRequest {
  to: string;
}

export interface TransferResult {
  ownerId: string;
  txHash: string | null;
}

export interface MintResult {
  tokenId: string;
  ownerId: string;
  txHash: string | null;
}

/** Names of the workflow's query and update, shared with the client side. */
export const PART_STATE_QUERY = 'state';
export const TRANSFER_UPDATE = 'transfer';
export const PART_WORKFLOW = 'partLifecycle';
