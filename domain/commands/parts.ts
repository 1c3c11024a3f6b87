// Commands on parts shared by the HTTP API and the Service Bus intake: start a part on a lifecycle
// version, and deliver the event an `await` step waits for, as a signal (kept by the part when it
// arrives early) or as an update (judged by the workflow, answered once the step has taken it).
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { getLifecycle } from '../../db/lifecycles.js';
import { existingParticipantIds } from '../../db/participants.js';
import { getPart } from '../../db/parts.js';
import { ENDED_PART_STATUSES } from '../../db/schema.js';
import { tokenIdOf } from '../chain/part-registry.js';
import { checkFields } from '../../workflows/definition.js';
import type { CompiledLifecycle, CompiledStep, FieldSpecs } from '../../workflows/definition.js';
import { PART_WORKFLOW_TYPE } from '../../workflows/part-types.js';
import type { AwaitAccepted, PartInput } from '../../workflows/part-types.js';
import { PartFailure } from '../../workflows/failures.js';
import type { CommandDeps } from './deps.js';
import { CommandRefused } from './errors.js';
import { describeIfExists } from './workflow-handles.js';

export interface StartPartRequest {
  id: string;
  lifecycle: string;
  version?: number;
  params: Record<string, unknown>;
}

export interface StartedPart {
  id: string;
  tokenId: string;
  lifecycle: { name: string; version: number };
  workflow: { id: string; runId: string };
}

export type PartCommands = ReturnType<typeof partCommands>;

/** The part an event goes to and the await steps of its pinned definition waiting for the event. */
export type EventTarget = Awaited<ReturnType<PartCommands['eventTarget']>>;

export function partCommands(deps: CommandDeps) {
  const { db, temporal, taskQueue, policies } = deps;

  /** Field problems become 422 `invalid_params` / `invalid_payload` with one entry per field. */
  function fieldError(code: string, what: string, problems: { field: string; message: string }[]): CommandRefused {
    return new CommandRefused(422, code, `${what}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
  }

  /** Participant-typed values must name registered participants. */
  async function unknownParticipants(specs: FieldSpecs, values: Record<string, unknown>) {
    const named = Object.keys(specs).filter((name) => specs[name]!.type === 'participant' && typeof values[name] === 'string');
    if (named.length === 0) return [];
    const known = await existingParticipantIds(db, named.map((name) => values[name] as string));
    return named.filter((name) => !known.has(values[name] as string)).map((name) => ({ field: name, message: `unknown participant "${values[name]}"` }));
  }

  async function payloadProblems(specs: FieldSpecs, values: Record<string, unknown>) {
    const problems = checkFields(specs, values);
    return problems.length > 0 ? problems : unknownParticipants(specs, values);
  }

  /** Published versions never change, so each is read from SQL once per API process. */
  const compiledVersions = new Map<string, CompiledLifecycle>();
  async function pinnedLifecycle(name: string, version: number): Promise<CompiledLifecycle | undefined> {
    const key = `${name}@${version}`;
    if (!compiledVersions.has(key)) {
      const row = await getLifecycle(db, name, version);
      if (!row) return undefined;
      compiledVersions.set(key, row.compiled);
    }
    return compiledVersions.get(key);
  }

  /**
   * The await steps of a part's pinned definition that wait for `event`. The part's SQL row names
   * the version and says whether it has ended; only a part whose row is not written yet needs
   * Temporal (its memo names the version).
   */
  async function eventTarget(id: string, event: string) {
    const handle = temporal.workflow.getHandle(id);
    const part = await getPart(db, id);
    let pinned: { name?: string; version?: number; ended?: string };
    if (part) {
      pinned = { name: part.lifecycle, version: part.lifecycleVersion, ended: ENDED_PART_STATUSES.has(part.status) ? part.status : undefined };
    } else {
      const description = await describeIfExists(handle);
      if (!description) throw new CommandRefused(404, 'part_not_found', `part "${id}" not found`);
      const running = description.status.name === 'RUNNING';
      pinned = {
        name: description.memo?.lifecycle as string | undefined,
        version: description.memo?.lifecycleVersion as number | undefined,
        ended: running ? undefined : description.status.name.toLowerCase(),
      };
    }
    const lifecycle = pinned.name && pinned.version ? await pinnedLifecycle(pinned.name, pinned.version) : undefined;
    const awaiting = lifecycle ? awaitSteps(lifecycle, event) : [];
    if (awaiting.length === 0) {
      const events = lifecycle ? [...new Set(awaitSteps(lifecycle).map((s) => s.params.event as string))] : [];
      throw new CommandRefused(404, 'unknown_event', `part "${id}" (${pinned.name ?? 'no lifecycle'} v${pinned.version ?? '?'}) awaits no event "${event}"${events.length ? `; it awaits: ${events.join(', ')}` : ''}`);
    }
    if (pinned.ended) throw notActive(id, pinned.ended);
    return { id, event, handle, awaiting };
  }


  /**
   * Starts the part (its id is the workflow id). `memo` is kept with the workflow: the intake
   * names its message there, so a redelivered message finds the part it started.
   */
  async function start(request: StartPartRequest, createdBy: string, memo: Record<string, unknown> = {}): Promise<StartedPart> {
    const row = await getLifecycle(db, request.lifecycle, request.version);
    if (!row) {
      const exists = request.version !== undefined && (await getLifecycle(db, request.lifecycle));
      throw exists
        ? new CommandRefused(404, 'lifecycle_version_not_found', `lifecycle "${request.lifecycle}" has no version ${request.version}`)
        : new CommandRefused(404, 'lifecycle_not_found', `no lifecycle named "${request.lifecycle}" (see GET /lifecycles)`);
    }
    const lifecycle = row.compiled;
    const problems = await payloadProblems(lifecycle.params, request.params);
    if (problems.length > 0) throw fieldError('invalid_params', `params for ${lifecycle.name} v${lifecycle.version}`, problems.map((p) => ({ ...p, field: `params.${p.field}` })));

    const input: PartInput = { partId: request.id, lifecycle, params: request.params, policies, createdBy };
    try {
      const handle = await temporal.workflow.start(PART_WORKFLOW_TYPE, {
        workflowId: request.id,
        taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        // The pinned version, readable before the workflow has written its SQL record.
        memo: { ...memo, lifecycle: lifecycle.name, lifecycleVersion: lifecycle.version },
      });
      return {
        id: request.id,
        tokenId: tokenIdOf(request.id).toString(),
        lifecycle: { name: lifecycle.name, version: lifecycle.version },
        workflow: { id: handle.workflowId, runId: handle.firstExecutionRunId },
      };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) throw new CommandRefused(409, 'part_exists', `part "${request.id}" already exists`);
      throw error;
    }
  }

  /**
   * Delivers the event as a signal; checked here, since a signal cannot be refused by the workflow.
   * With a `requestId`, Temporal records a repeat of the same id once (the intake's message id).
   */
  async function signal(id: string, event: string, payload: Record<string, unknown>, requestId?: string, target?: EventTarget): Promise<void> {
    const { handle, awaiting } = target ?? (await eventTarget(id, event));
    // Checked against every step awaiting it.
    const problems = await Promise.all(awaiting.map((step) => payloadProblems(step.params.payload as FieldSpecs, payload)));
    if (problems.every((list) => list.length > 0)) throw fieldError('invalid_payload', `payload of "${event}"`, problems[0]!);
    try {
      if (!requestId) return await handle.signal(event, payload);
      // The client's signal() picks a random request id; the service call takes ours.
      await temporal.workflowService.signalWorkflowExecution({
        namespace: temporal.options.namespace,
        identity: temporal.options.identity,
        workflowExecution: { workflowId: id },
        signalName: event,
        requestId,
        input: { payloads: [defaultPayloadConverter.toPayload(payload)] },
      });
    } catch (error) {
      if (error instanceof WorkflowNotFoundError || (error as { code?: number }).code === GRPC_NOT_FOUND) throw notActive(id, 'closed');
      throw error;
    }
  }

  /**
   * Delivers the event as an update, which the workflow judges. Temporal keeps one outcome per
   * `updateId`: a repeat with the same id is the same update, not a second event.
   */
  async function update(id: string, event: string, payload: Record<string, unknown>, updateId?: string, target?: EventTarget): Promise<AwaitAccepted> {
    const { handle, awaiting } = target ?? (await eventTarget(id, event));
    // The workflow's validator judges the payload's shape; whether named participants exist is for
    // SQL to say, once the shape is right.
    const specs = awaiting[0]!.params.payload as FieldSpecs;
    const unknown = checkFields(specs, payload).length === 0 ? await unknownParticipants(specs, payload) : [];
    if (unknown.length > 0) throw fieldError('invalid_payload', `payload of "${event}"`, unknown);
    try {
      return await handle.executeUpdate<AwaitAccepted, [Record<string, unknown>]>(event, { args: [payload], ...(updateId ? { updateId } : {}) });
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
        const failure = error.cause;
        if (failure.type === PartFailure.InvalidPayload) throw fieldError('invalid_payload', `payload of "${event}"`, (failure.details?.[0] as { field: string; message: string }[]) ?? []);
        if (failure.type === PartFailure.NotAwaiting) throw new CommandRefused(409, 'not_awaiting', failure.message);
      }
      if (error instanceof WorkflowNotFoundError) throw notActive(id, 'closed');
      throw error;
    }
  }

  return { start, signal, update, eventTarget, pinnedLifecycle };
}

const GRPC_NOT_FOUND = 5;

function notActive(id: string, status: string): CommandRefused {
  return new CommandRefused(409, 'part_not_active', `part "${id}" is ${status} and takes no more events`);
}

function awaitSteps(lifecycle: CompiledLifecycle, event?: string): CompiledStep[] {
  return lifecycle.steps.filter((step) => step.kind === 'await' && (event === undefined || step.params.event === event));
}
