// A part's read view: its live workflow state joined with the SQL mirror, its owner and its operator
// audit trail. The API's GET /parts/{id} answers with it.
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Db } from '../../db/client.js';
import { findParticipant } from '../../db/participants.js';
import { listOperatorActions } from '../../db/operator-actions.js';
import type { OperatorActionRow } from '../../db/operator-actions.js';
import { getPartRecord } from '../../db/parts.js';
import type { OwnershipRow, PartRecord } from '../../db/parts.js';
import { tokenIdOf } from '../chain/part-registry.js';
import { PART_RUN_STATE_QUERY, PART_WORKFLOW_TYPE } from '../../workflows/part-types.js';
import type { PartRunState } from '../../workflows/part-types.js';
import { BoundedCache, SharedReads } from './read-sharing.js';
import { describeIfExists } from './workflow-handles.js';

export interface PartViewDeps {
  db: Db;
  temporal: Client;
}

export type PartView = ReturnType<typeof partView>;

type Description = NonNullable<Awaited<ReturnType<typeof describeIfExists>>>;

/** What is read for one part, before it is shaped into the view. */
interface PartSources {
  id: string;
  description: Description | undefined;
  live: PartRunState | undefined;
  record: PartRecord | undefined;
  owner: { id: string; name: string; address: string } | undefined;
  actions: OperatorActionRow[];
}

/**
 * The part's view, or undefined when neither the mirror nor Temporal knows the part. Concurrent
 * reads of one part share one read (a burst of 1,000 GETs of a part costs one describe, one query
 * and one set of SQL reads, not 1,000 that queue behind each other).
 */
export function readPart(deps: PartViewDeps, id: string): Promise<PartView | undefined> {
  return sharingOf(deps.temporal).views.run(id, () => readPartNow(deps, id));
}

/** Per Temporal client (one per stack): the reads in flight and the live states known. */
interface Sharing {
  views: SharedReads<PartView | undefined>;
  /** Live states by run id and history length: a workflow's state changes only with its history. */
  states: BoundedCache<PartRunState>;
}

const sharings = new WeakMap<Client, Sharing>();

/** Enough live states for every workflow a worker caches; each is a few KiB. */
const LIVE_STATES_KEPT = 2_000;

function sharingOf(temporal: Client): Sharing {
  let sharing = sharings.get(temporal);
  if (!sharing) {
    sharing = { views: new SharedReads(), states: new BoundedCache(LIVE_STATES_KEPT) };
    sharings.set(temporal, sharing);
  }
  return sharing;
}

async function readPartNow(deps: PartViewDeps, id: string): Promise<PartView | undefined> {
  const { db, temporal } = deps;
  const handle = temporal.workflow.getHandle(id);
  // Live state first, SQL after: activities write SQL before they finish, so the mirror read
  // afterwards is never older than the state the workflow reported.
  const description = await describeIfExists(handle);
  const live = await liveState(handle, description, sharingOf(temporal).states);
  const record = await getPartRecord(db, id);
  if (!record && !description) return undefined;
  const [owner, actions] = await Promise.all([
    record?.part.ownerId ? findParticipant(db, record.part.ownerId) : undefined,
    record ? listOperatorActions(db, id) : [],
  ]);
  return partView({ id, description, live, record, owner, actions });
}

/**
 * The running part workflow's own state (undefined once it has ended, or if the query fails). The
 * query is a workflow task on the worker; the state it answers is a function of the history, so an
 * answer for the same run and history length is reused instead of asking again.
 */
async function liveState(
  handle: WorkflowHandle,
  description: Description | undefined,
  states: BoundedCache<PartRunState>,
): Promise<PartRunState | undefined> {
  if (description?.status.name !== 'RUNNING' || description.type !== PART_WORKFLOW_TYPE) return undefined;
  const key = `${description.runId}:${description.historyLength}`;
  const known = states.get(key);
  if (known) return known;
  const state = await handle.query<PartRunState>(PART_RUN_STATE_QUERY).catch(() => undefined);
  if (state) states.set(key, state);
  return state;
}

// The key order here is the response's key order.
function partView({ id, description, live, record, owner, actions }: PartSources) {
  return {
    id,
    tokenId: tokenIdOf(id).toString(),
    status: record?.part.status ?? 'starting',
    lifecycle: record ? { name: record.part.lifecycle, version: record.part.lifecycleVersion } : undefined,
    params: record?.part.params ?? {},
    roles: record?.part.roles ?? {},
    owner: owner ? { id: owner.id, name: owner.name, address: owner.address } : null,
    currentStep: live?.currentStep ?? null,
    steps: stepViews(record, live),
    variables: live?.variables ?? variablesFrom(record),
    ownership: (record?.ownership ?? []).map(ownershipView),
    workflow: description ? workflowView(description, live) : null,
    operatorActions: actions.map(operatorActionView),
    createdAt: record?.part.createdAt,
    updatedAt: record?.part.updatedAt,
  };
}

function ownershipView(change: OwnershipRow) {
  return { from: change.fromId, to: change.toId, txHash: change.txHash, blockNumber: change.blockNumber, at: change.createdAt };
}

function workflowView(description: Description, live: PartRunState | undefined) {
  return {
    id: description.workflowId,
    runId: description.runId,
    type: description.type,
    status: description.status.name,
    state: live?.status,
  };
}

function operatorActionView(action: OperatorActionRow) {
  return {
    id: action.id,
    action: action.action,
    step: action.stepId,
    actor: action.actor,
    reason: action.reason,
    before: action.before,
    after: action.after,
    at: action.createdAt,
  };
}

/** Step runs: the SQL mirror, with the live workflow's run counts and errors where it has them. */
function stepViews(record: PartRecord | undefined, live: PartRunState | undefined) {
  return (record?.steps ?? []).map((step) => {
    const running = live?.steps.find((s) => s.id === step.stepId);
    return {
      id: step.stepId,
      kind: step.kind,
      status: step.status,
      attempts: step.attempts,
      runs: running?.runs,
      txHash: step.txHash,
      output: step.output,
      error: step.lastErrorCode ? { code: step.lastErrorCode, message: step.lastErrorMessage } : null,
      startedAt: step.startedAt,
      finishedAt: step.finishedAt,
    };
  });
}

/** A finished part's variables, rebuilt from the mirror: its params and each step's output. */
function variablesFrom(record: PartRecord | undefined): Record<string, unknown> {
  if (!record) return {};
  const outputs = record.steps.filter((step) => step.output).map((step) => [step.stepId, step.output]);
  return { params: record.part.params, ...Object.fromEntries(outputs) };
}
