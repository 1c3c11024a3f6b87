// The benchmark's bare baseline: a workflow of the same shape as a part-basic part as Tracewell runs
// it (workflows/part.ts), with activities that do nothing. The same local activities (startPart,
// recordStepStatus running and succeeded around the await, completePart), one activity per chain step
// (mint, transfer) with the same options, the same `sold` signal waited for with `condition`, and the
// same search-attribute upserts. What is left out is Tracewell's own work: chain, SQL and API.
// Bundled by the bench's own worker; nothing under workflows/ imports it. Deterministic: no I/O.
import { condition, defineSignal, proxyActivities, proxyLocalActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  ERROR_CODE_ATTRIBUTE,
  LIFECYCLE_ATTRIBUTE,
  LIFECYCLE_VERSION_ATTRIBUTE,
  PART_ID_ATTRIBUTE,
  STATUS_ATTRIBUTE,
  STEP_ATTRIBUTE,
} from '../../workflows/search-attributes.js';

/** What the bare workflow's activities look like: every one takes a small object and does nothing. */
export interface BareActivities {
  startPart(input: Record<string, unknown>): Promise<void>;
  recordStepStatus(input: Record<string, unknown>): Promise<void>;
  completePart(input: Record<string, unknown>): Promise<void>;
  mintStep(input: Record<string, unknown>): Promise<Record<string, unknown>>;
  transferStep(input: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export interface BarePartInput {
  partId: string;
  /** The options part-basic's local activities and chain-step activities run with (temporal.yaml). */
  local: LocalActivityOptions;
  chain: ActivityOptions;
}

export const BARE_SIGNAL = 'sold';

export async function barePart(input: BarePartInput): Promise<{ partId: string; status: string }> {
  const { partId } = input;
  const sql = proxyLocalActivities<BareActivities>(input.local);
  const chain = proxyActivities<BareActivities>(input.chain);
  const state: { step: string | null; status: string } = { step: null, status: 'running' };
  const published: Record<string, unknown> = {};
  // As publishSearchAttributes: only the attributes that changed are upserted.
  const publish = () => {
    const wanted: SearchAttributeUpdatePair[] = [
      { key: PART_ID_ATTRIBUTE, value: partId },
      { key: LIFECYCLE_ATTRIBUTE, value: 'bare' },
      { key: LIFECYCLE_VERSION_ATTRIBUTE, value: 1 },
      { key: STEP_ATTRIBUTE, value: state.step },
      { key: STATUS_ATTRIBUTE, value: state.status },
      { key: ERROR_CODE_ATTRIBUTE, value: null },
    ];
    const changed = wanted.filter((pair) => published[pair.key.name] !== pair.value);
    if (changed.length === 0) return;
    for (const pair of changed) published[pair.key.name] = pair.value;
    upsertSearchAttributes(changed);
  };
  const inbox: unknown[] = [];
  setHandler(defineSignal<[Record<string, unknown>]>(BARE_SIGNAL), (payload) => void inbox.push(payload));

  publish();
  await sql.startPart({ partId });

  state.step = 'mint';
  publish();
  await chain.mintStep({ partId, stepId: 'mint' });

  state.step = 'sold';
  publish();
  await sql.recordStepStatus({ partId, stepId: 'sold', status: 'running' });
  state.status = 'awaiting';
  publish();
  await condition(() => inbox.length > 0);
  const payload = inbox.shift() as Record<string, unknown>;
  state.status = 'running';
  await sql.recordStepStatus({ partId, stepId: 'sold', status: 'succeeded', output: payload });

  state.step = 'deliver';
  publish();
  await chain.transferStep({ partId, stepId: 'deliver', params: { to: payload.buyer } });

  state.step = null;
  state.status = 'completed';
  await sql.completePart({ partId });
  publish();
  return { partId, status: state.status };
}
