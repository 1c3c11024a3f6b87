// Commands on parts shared by the HTTP API and the Service Bus intake: start a part on a lifecycle
// version, and deliver the event an `await` step waits for (part-events.ts).
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { defaultVersionOf, getLifecycle } from '../../db/lifecycles.js';
import type { Db } from '../../db/client.js';
import { tokenIdOf } from '../chain/part-registry.js';
import type { CompiledLifecycle } from '../../workflows/definition.js';
import { PART_WORKFLOW_TYPE } from '../../workflows/part-types.js';
import type { AwaitAccepted, PartInput } from '../../workflows/part-types.js';
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';
import { lifecycleNotFound } from '../lifecycles/not-found.js';
import type { CommandDeps } from './deps.js';
import { eventTarget, signalEvent, updateEvent } from './part-events.js';
import type { PinnedLifecycle } from './part-events.js';
import { fieldProblems, listProblems } from './part-fields.js';
import { requireWithinPayloadLimit } from './payload-size.js';
import { bindRoles } from './role-bindings.js';
import type { RoleBindings } from '../../workflows/role-bindings.js';
import type { Participant } from '../../db/participants.js';

export type { EventTarget } from './part-events.js';

export interface StartPartRequest {
  id: string;
  lifecycle: string;
  version?: number;
  params: Record<string, unknown>;
  /** Which participant plays a role the steps name without one; the rest is bound by the lifecycle's rules. */
  roles?: RoleBindings;
}

export interface StartedPart {
  id: string;
  tokenId: string;
  lifecycle: { name: string; version: number };
  /** Who plays each role for this part, as bound at start. */
  roles: RoleBindings;
  workflow: { id: string; runId: string };
}

export type PartCommands = ReturnType<typeof partCommands>;

/** The part commands over `deps`, sharing one cache of the published versions parts are pinned to. */
export function partCommands(deps: CommandDeps) {
  const pinnedLifecycle = lifecycleCache(deps.db);
  // Every delivery names its sender: who may send an event is the lifecycle's to say (event-senders.ts).
  const target = (id: string, event: string, sender: Participant) => eventTarget(deps, pinnedLifecycle, id, event, sender);
  return {
    start: (request: StartPartRequest, createdBy: string, memo: Record<string, unknown> = {}) => startPart(deps, request, createdBy, memo),
    signal: async (sender: Participant, id: string, event: string, payload: Record<string, unknown>, requestId?: string): Promise<void> =>
      signalEvent(deps, await target(id, event, sender), payload, requestId),
    update: async (
      sender: Participant,
      id: string,
      event: string,
      payload: Record<string, unknown>,
      updateId?: string,
    ): Promise<AwaitAccepted> => updateEvent(deps, await target(id, event, sender), payload, updateId),
    pinnedLifecycle,
  };
}

/** Published versions never change, so each is read from SQL once per process. */
function lifecycleCache(db: Db): PinnedLifecycle {
  const compiled = new Map<string, CompiledLifecycle>();
  return async (name, version) => {
    const key = `${name}@${version}`;
    if (!compiled.has(key)) {
      const row = await getLifecycle(db, name, version);
      if (!row) return undefined;
      compiled.set(key, row.compiled);
    }
    return compiled.get(key);
  };
}

/** The lifecycle version a start asks for (the default when it names none); never a deprecated one. */
async function lifecycleToStart(db: Db, request: StartPartRequest): Promise<CompiledLifecycle> {
  const row = await getLifecycle(db, request.lifecycle, request.version);
  if (row?.deprecatedAt) {
    const current = await defaultVersionOf(db, request.lifecycle);
    const hint = `no new part starts on it; start on v${current} (the default), or omit version`;
    throw new CodedError(Errors.lifecycle_version_deprecated, { name: row.name, version: row.version, hint });
  }
  if (row) return row.compiled;
  const exists = request.version !== undefined && (await getLifecycle(db, request.lifecycle));
  throw exists
    ? new CodedError(Errors.lifecycle_version_not_found, { name: request.lifecycle, version: request.version! })
    : await lifecycleNotFound(db, request.lifecycle);
}

/**
 * Starts the part (its id is the workflow id). `memo` is kept with the workflow: the intake
 * names its message there, so a redelivered message finds the part it started.
 */
async function startPart(
  deps: CommandDeps,
  request: StartPartRequest,
  createdBy: string,
  memo: Record<string, unknown>,
): Promise<StartedPart> {
  // Temporal would refuse the workflow input only after the checks below; say the limit first.
  requireWithinPayloadLimit('params', request.params);
  const lifecycle = await lifecycleToStart(deps.db, request);
  const problems = (await fieldProblems(deps.db, lifecycle.params, request.params)).map((p) => ({ ...p, field: `params.${p.field}` }));
  if (problems.length > 0)
    throw new CodedError(
      Errors.invalid_params,
      { lifecycle: lifecycle.name, version: lifecycle.version, problems: listProblems(problems) },
      problems,
    );

  const roles = await bindRoles(deps.db, lifecycle, request, createdBy);
  const input: PartInput = { partId: request.id, lifecycle, params: request.params, roles, policies: deps.policies, createdBy };
  try {
    const handle = await deps.temporal.workflow.start(PART_WORKFLOW_TYPE, {
      workflowId: request.id,
      taskQueue: deps.taskQueue,
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      workflowIdConflictPolicy: 'FAIL',
      // The pinned version, readable before the workflow has written its SQL record.
      // Its roles and starter too: who may send its events before that record exists (event-senders.ts).
      memo: { ...memo, lifecycle: lifecycle.name, lifecycleVersion: lifecycle.version, roles, createdBy },
    });
    return {
      id: request.id,
      tokenId: tokenIdOf(request.id).toString(),
      lifecycle: { name: lifecycle.name, version: lifecycle.version },
      roles,
      workflow: { id: handle.workflowId, runId: handle.firstExecutionRunId },
    };
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) throw new CodedError(Errors.part_exists, { id: request.id });
    throw error;
  }
}
