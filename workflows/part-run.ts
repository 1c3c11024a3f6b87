// The state one run of the part workflow carries between its pieces (step runner, inbox, operator
// loop): the part's visible state, where the flow is, what has arrived for the waiting step, and
// the search attributes as last published. Deterministic: workflow sandbox.
import { proxyLocalActivities, upsertSearchAttributes } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { PartRecordActivities } from './activity-contract.js';
import { activityOptions } from './activity-options.js';
import type { CompiledLifecycle, CompiledStep } from './definition.js';
import type { OperatorDecision, PartInput, PartRunState } from './part-types.js';
import {
  ERROR_CODE_ATTRIBUTE,
  LIFECYCLE_ATTRIBUTE,
  LIFECYCLE_VERSION_ATTRIBUTE,
  PART_ID_ATTRIBUTE,
  STATUS_ATTRIBUTE,
  STEP_ATTRIBUTE,
} from './search-attributes.js';

/** A step that failed in the workflow itself (not in an activity), with its error code. */
export class StepFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** An event delivered to the step that is waiting for it. */
export interface Delivery {
  payload: Record<string, unknown>;
  via: 'signal' | 'update';
}

export interface PartRun {
  readonly input: PartInput;
  readonly partId: string;
  readonly lifecycle: CompiledLifecycle;
  /** The SQL bookkeeping, as local activities: short, and spared a server round trip. */
  readonly sql: PartRecordActivities;
  readonly state: PartRunState;
  /** Signals received for events no step was waiting for yet. */
  readonly inbox: Record<string, unknown[]>;
  /** Index of the step the flow is at; -1 or past the end when it is done. */
  position: number;
  delivered?: Delivery;
  decision?: OperatorDecision & { requestId: string };
  /** The error code of the step the part is parked or failed on. */
  failureCode: string | null;
  /** The resolved parameters of the current step's latest attempt, for the audit trail. */
  attemptParams?: Record<string, unknown>;
  /** Search attributes as last sent, so only changes are upserted. */
  readonly published: Record<string, unknown>;
}

/** A fresh run, or the one a continued-as-new run left behind. */
export function openRun(input: PartInput): PartRun {
  const { lifecycle, partId, resume } = input;
  return {
    input,
    partId,
    lifecycle,
    sql: proxyLocalActivities<PartRecordActivities>(activityOptions(input.policies.default)),
    state: resume?.state ?? {
      partId,
      lifecycle: { name: lifecycle.name, version: lifecycle.version },
      status: 'running',
      steps: lifecycle.steps.map((step) => ({ id: step.id, kind: step.kind, status: 'pending', runs: 0 })),
      variables: { params: input.params },
      ignoredSignals: 0,
    },
    inbox: resume?.inbox ?? {},
    position: resume?.position ?? 0,
    failureCode: null,
    published: {},
  };
}

export function stepAt(run: PartRun, index = run.position): CompiledStep {
  return run.lifecycle.steps[index]!;
}

/** Upserts the search attributes that changed since they were last sent. */
export function publishSearchAttributes(run: PartRun): void {
  const wanted: SearchAttributeUpdatePair[] = [
    { key: PART_ID_ATTRIBUTE, value: run.partId },
    { key: LIFECYCLE_ATTRIBUTE, value: run.lifecycle.name },
    { key: LIFECYCLE_VERSION_ATTRIBUTE, value: run.lifecycle.version },
    { key: STEP_ATTRIBUTE, value: run.state.currentStep ?? null },
    { key: STATUS_ATTRIBUTE, value: run.state.status },
    { key: ERROR_CODE_ATTRIBUTE, value: run.failureCode },
  ];
  const changed = wanted.filter((pair) => run.published[pair.key.name] !== pair.value);
  if (changed.length === 0) return;
  for (const pair of changed) run.published[pair.key.name] = pair.value;
  upsertSearchAttributes(changed);
}
