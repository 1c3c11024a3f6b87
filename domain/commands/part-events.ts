// Delivering the event an `await` step waits for: as a signal (kept by the part when it arrives
// early) or as an update (judged by the workflow, answered once the step has taken it).
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, defaultPayloadConverter, WorkflowNotFoundError } from '@temporalio/common';
import { getPart } from '../../db/parts.js';
import { ENDED_PART_STATUSES } from '../../db/schema.js';
import { checkFields } from '../../workflows/definition.js';
import type { CompiledLifecycle, CompiledStep, FieldSpecs } from '../../workflows/definition.js';
import type { AwaitAccepted } from '../../workflows/part-types.js';
import { PartFailure } from '../../workflows/failures.js';
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';
import type { CommandDeps } from './deps.js';
import { checkSender } from './event-senders.js';
import type { PartParties } from './event-senders.js';
import type { Participant } from '../../db/participants.js';
import { fieldProblems, invalidPayload, unknownParticipants } from './part-fields.js';
import type { FieldProblem } from './part-fields.js';
import { requireWithinPayloadLimit } from './payload-size.js';
import { describeIfExists } from './workflow-handles.js';

/** The part an event goes to and the await steps of its pinned definition waiting for the event. */
export interface EventTarget {
  id: string;
  event: string;
  handle: WorkflowHandle;
  awaiting: CompiledStep[];
}

/** A published lifecycle version by name and version (they never change, so callers may cache). */
export type PinnedLifecycle = (name: string, version: number) => Promise<CompiledLifecycle | undefined>;

/**
 * The version a part runs, whether it has ended and who is around it: from its SQL row, or before
 * that row exists, from Temporal (the start's memo).
 */
async function pinnedVersionOf(
  deps: CommandDeps,
  id: string,
  handle: WorkflowHandle,
): Promise<{ name?: string; version?: number; ended?: string; parties: PartParties }> {
  const part = await getPart(deps.db, id);
  if (part)
    return {
      name: part.lifecycle,
      version: part.lifecycleVersion,
      ended: ENDED_PART_STATUSES.has(part.status) ? part.status : undefined,
      parties: { roles: part.roles, holder: part.ownerId, createdBy: part.createdBy },
    };
  const description = await describeIfExists(handle);
  if (!description) throw new CodedError(Errors.part_not_found, { id });
  return {
    name: description.memo?.lifecycle as string | undefined,
    version: description.memo?.lifecycleVersion as number | undefined,
    ended: description.status.name === 'RUNNING' ? undefined : description.status.name.toLowerCase(),
    parties: {
      roles: (description.memo?.roles as Record<string, string> | undefined) ?? {},
      createdBy: description.memo?.createdBy as string | undefined,
    },
  };
}

/**
 * The await steps of a part's pinned definition that wait for `event`, once `sender` is known to be
 * the participant the lifecycle takes the event from (403 `event_not_allowed` otherwise).
 */
export async function eventTarget(
  deps: CommandDeps,
  pinnedLifecycle: PinnedLifecycle,
  id: string,
  event: string,
  sender: Participant,
): Promise<EventTarget> {
  const handle = deps.temporal.workflow.getHandle(id);
  const pinned = await pinnedVersionOf(deps, id, handle);
  const lifecycle = pinned.name && pinned.version ? await pinnedLifecycle(pinned.name, pinned.version) : undefined;
  const awaiting = lifecycle ? awaitSteps(lifecycle, event) : [];
  if (awaiting.length === 0) {
    const events = lifecycle ? [...new Set(awaitSteps(lifecycle).map((s) => s.params.event as string))] : [];
    const awaited = events.length ? `; it awaits: ${events.join(', ')}` : '';
    throw new CodedError(Errors.unknown_event, {
      id,
      lifecycle: pinned.name ?? 'no lifecycle',
      version: pinned.version ?? '?',
      event,
      awaited,
    });
  }
  checkSender(sender, id, event, awaiting, pinned.parties);
  if (pinned.ended) throw notActive(id, pinned.ended);
  return { id, event, handle, awaiting };
}

/**
 * Delivers the event as a signal; checked here, since a signal cannot be refused by the workflow.
 * With a `requestId`, Temporal records a repeat of the same id once (the intake's message id).
 */
export async function signalEvent(
  deps: CommandDeps,
  target: EventTarget,
  payload: Record<string, unknown>,
  requestId?: string,
): Promise<void> {
  const { id, event, handle, awaiting } = target;
  requireWithinPayloadLimit('payload', payload);
  // Checked against every step awaiting it.
  const problems = await Promise.all(awaiting.map((step) => fieldProblems(deps.db, step.params.payload as FieldSpecs, payload)));
  if (problems.every((list) => list.length > 0)) throw invalidPayload(event, problems[0]!);
  try {
    if (!requestId) return await handle.signal(event, payload);
    // The client's signal() picks a random request id; the service call takes ours.
    await deps.temporal.workflowService.signalWorkflowExecution({
      namespace: deps.temporal.options.namespace,
      identity: deps.temporal.options.identity,
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
export async function updateEvent(
  deps: CommandDeps,
  target: EventTarget,
  payload: Record<string, unknown>,
  updateId?: string,
): Promise<AwaitAccepted> {
  const { id, event, handle, awaiting } = target;
  requireWithinPayloadLimit('payload', payload);
  // The workflow's validator judges the payload's shape; whether named participants exist is for
  // SQL to say, once the shape is right.
  const specs = awaiting[0]!.params.payload as FieldSpecs;
  const unknown = checkFields(specs, payload).length === 0 ? await unknownParticipants(deps.db, specs, payload) : [];
  if (unknown.length > 0) throw invalidPayload(event, unknown);
  try {
    return await handle.executeUpdate<AwaitAccepted, [Record<string, unknown>]>(event, {
      args: [payload],
      ...(updateId ? { updateId } : {}),
    });
  } catch (error) {
    throw refusalOfUpdate(error, id, event) ?? error;
  }
}

/** The workflow's refusal of an event update as the caller's error. */
function refusalOfUpdate(error: unknown, id: string, event: string): CodedError | undefined {
  if (error instanceof WorkflowNotFoundError) return notActive(id, 'closed');
  if (!(error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure)) return undefined;
  const failure = error.cause;
  if (failure.type === PartFailure.InvalidPayload) return invalidPayload(event, (failure.details?.[0] as FieldProblem[]) ?? []);
  if (failure.type === PartFailure.NotAwaiting) return new CodedError(Errors.not_awaiting, { reason: failure.message });
  return undefined;
}

const GRPC_NOT_FOUND = 5;

function notActive(id: string, status: string): CodedError {
  return new CodedError(Errors.part_not_active, { id, state: `is ${status} and takes no more events` });
}

function awaitSteps(lifecycle: CompiledLifecycle, event?: string): CompiledStep[] {
  return lifecycle.steps.filter((step) => step.kind === 'await' && (event === undefined || step.params.event === event));
}
