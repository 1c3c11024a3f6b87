// The activities the workflows call, as the workflows see them: the contract activities/index.ts is
// type-checked against, so the workflow sandbox needs nothing from activities/. Types only.
import type { ActivityStepKind, StepActivityName } from './step-kinds.js';

/** A 0x-prefixed hex string (a transaction or document hash). */
export type HexString = `0x${string}`;

/** The shape of every step activity's input. */
export interface StepCall<P = Record<string, unknown>> {
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
  /** The step's parameters, references already resolved by the workflow. */
  params: P;
}

/** What a step leaves in the part's variables under its id. */
export type StepOutput = Record<string, unknown>;

/**
 * A step activity as the workflow calls it. Declared with method syntax so each activity may narrow
 * its parameters to its kind's (it is the registry's entry that decides which activity gets which).
 */
export type StepActivity = { run(call: StepCall<object>): Promise<StepOutput> }['run'];

/** One activity per step kind an activity runs, named by the step-kind registry. */
export type StepActivities = { [K in StepActivityName]: StepActivity };

export interface StartPartInput {
  partId: string;
  lifecycle: { name: string; version: number };
  params: Record<string, unknown>;
  steps: { id: string; kind: string }[];
  createdBy?: string;
  /** Which participant plays each role, as bound at start. */
  roles?: Record<string, string>;
}

/** An operator decision the workflow took, with the part's state before and after it (the audit row). */
export interface OperatorDecisionRecord {
  requestId: string;
  partId: string;
  stepId: string;
  action: 'retry' | 'skip' | 'abort';
  actor: string;
  reason: string | null;
  before: { partStatus: 'parked'; [key: string]: unknown };
  after: { partStatus: 'active' | 'aborted'; [key: string]: unknown };
}

/** The part workflow's SQL bookkeeping: local activities, short and retried. */
export interface PartRecordActivities {
  /** Creates the part and a pending run per step in the SQL mirror; a repeat changes nothing. */
  startPart(input: StartPartInput): Promise<void>;
  /** A step that runs in the workflow itself: an `await` waiting or completed, a skipped step. */
  recordStepStatus(input: {
    partId: string;
    stepId: string;
    status: 'running' | 'succeeded' | 'skipped';
    output?: Record<string, unknown>;
  }): Promise<void>;
  /** A step failed for good: the part is parked for an operator, or failed. */
  recordStepFailure(input: { partId: string; stepId: string; code: string; message: string; outcome?: 'parked' | 'failed' }): Promise<void>;
  /** An operator's decision on a parked step: the audit row and the state it leads to, at once. */
  recordOperatorDecision(input: OperatorDecisionRecord): Promise<void>;
  completePart(input: { partId: string }): Promise<void>;
}

export type LedgerAction =
  | { action: 'transfer'; to: string }
  | { action: 'decommission' }
  /** A certifier anchors its certificate document (from the vault) on the part; it need not hold it. */
  | { action: 'attach-certificate'; document: string; kind: string; validForMs: number | null };

export type LedgerActionRequest = LedgerAction & {
  partId: string;
  /** The participant asking; it must hold the part (the issuer, for a certificate). */
  actorId: string;
  requestId: string;
};

export type AttachedCertificate = {
  certificate: string;
  document: string;
  documentHash: HexString;
  issuer: string;
  validUntil: string | null;
  txHash: HexString | null;
};

export interface LedgerActionResult {
  part: string;
  action: LedgerAction['action'];
  owner?: string;
  txHash: HexString | null;
  certificate?: AttachedCertificate;
  /** For a certificate: the `certify` step the part was parked on and now retries. */
  resumed?: string | null;
}

export interface ParticipantSyncRequest {
  participantId: string;
  /** Names this sync's chain writes: a retry of it sends none twice. */
  requestId: string;
}

export interface CertificationResumeRequest {
  partId: string;
  kind: string;
  documentHash: string;
  issuerId: string;
}

/** Chain work outside a part's lifecycle (the ledger task workflows). */
export interface LedgerTaskActivities {
  ledgerAction(request: LedgerActionRequest): Promise<LedgerActionResult>;
  /** The certify step retried, or null when the part was not parked on one. */
  resumeCertification(request: CertificationResumeRequest): Promise<string | null>;
  syncParticipantLedger(request: ParticipantSyncRequest): Promise<{ participant: string }>;
}

/** Every activity a workflow may call. */
export type WorkflowActivities = PartRecordActivities & StepActivities & LedgerTaskActivities;

export type { ActivityStepKind };
