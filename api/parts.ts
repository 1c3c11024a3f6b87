// /parts: start a part on a lifecycle version, read its state (with its operator audit trail),
// deliver the events its `await` steps wait for (as signals, or as updates that answer once the step
// has taken them), and let ops retry, skip or abort a failed step, or reset the part's workflow.
import { Hono } from 'hono';
import type { Context } from 'hono';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { z } from 'zod';
import { getLifecycle } from '../db/lifecycles.js';
import { existingParticipantIds, findParticipant } from '../db/participants.js';
import { listOperatorActions } from '../db/operator-actions.js';
import { getPart, getPartRecord } from '../db/parts.js';
import { sendDecision } from '../ops/decisions.js';
import { resetPart } from '../ops/reset.js';
import { ENDED_PART_STATUSES } from '../db/schema.js';
import type { PartRecord } from '../db/parts.js';
import { tokenIdOf } from '../ledger/part-registry.js';
import { PART_ID_PATTERN, checkFields } from '../workflows/definition.js';
import type { CompiledLifecycle, CompiledStep, FieldSpecs } from '../workflows/definition.js';
import { PART_RUN_STATE_QUERY, PART_WORKFLOW_TYPE } from '../workflows/part-types.js';
import type { AwaitAccepted, PartInput, PartRunState } from '../workflows/part-types.js';
import type { ApiDeps } from './deps.js';
import { actingParticipant } from './auth.js';
import { ApiError, readJson, readOptionalJson } from './errors.js';
import { operatorOf, asApiErrors, idempotencyKeyOf } from './operator.js';
import { describeIfExists } from './workflow-handles.js';

const partId = z.string().regex(PART_ID_PATTERN, 'letters, digits and : . _ - (at most 200), starting with a letter or digit');

const createPartSchema = z
  .object({
    id: partId,
    lifecycle: z.string().min(1),
    version: z.number().int().positive().optional(),
    params: z.record(z.unknown()).default({}),
  })
  .strict();

/** An event's payload: a JSON object (`{}` when the event carries nothing). */
const eventPayloadSchema = z.record(z.unknown());

const reason = z.string().trim().min(1, 'required').max(1000);
const retryBody = z.object({ params: z.record(z.unknown()).optional(), reason: reason.optional() }).strict();
const reasonBody = z.object({ reason }).strict();
const resetBody = z.object({ reason, eventId: z.number().int().positive().optional() }).strict();

export function partRoutes(deps: ApiDeps): Hono {
  const { db, temporal, taskQueue, policies } = deps;
  const app = new Hono();

  /** Field problems become 422 `invalid_params` / `invalid_payload` with one entry per field. */
  function fieldError(code: string, what: string, problems: { field: string; message: string }[]): ApiError {
    return new ApiError(422, code, `${what}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, problems);
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

  app.post('/', async (c) => {
    const body = await readJson(c, createPartSchema);
    const row = await getLifecycle(db, body.lifecycle, body.version);
    if (!row) {
      const exists = body.version !== undefined && (await getLifecycle(db, body.lifecycle));
      throw exists
        ? new ApiError(404, 'lifecycle_version_not_found', `lifecycle "${body.lifecycle}" has no version ${body.version}`)
        : new ApiError(404, 'lifecycle_not_found', `no lifecycle named "${body.lifecycle}" (see GET /lifecycles)`);
    }
    const lifecycle = row.compiled;
    const problems = await payloadProblems(lifecycle.params, body.params);
    if (problems.length > 0) throw fieldError('invalid_params', `params for ${lifecycle.name} v${lifecycle.version}`, problems.map((p) => ({ ...p, field: `params.${p.field}` })));

    const input: PartInput = { partId: body.id, lifecycle, params: body.params, policies, createdBy: actingParticipant(c).id };
    try {
      const handle = await temporal.workflow.start(PART_WORKFLOW_TYPE, {
        workflowId: body.id,
        taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        // The pinned version, readable before the workflow has written its SQL record.
        memo: { lifecycle: lifecycle.name, lifecycleVersion: lifecycle.version },
      });
      return c.json(
        {
          id: body.id,
          tokenId: tokenIdOf(body.id).toString(),
          lifecycle: { name: lifecycle.name, version: lifecycle.version },
          workflow: { id: handle.workflowId, runId: handle.firstExecutionRunId },
        },
        201,
        { location: `/parts/${encodeURIComponent(body.id)}` },
      );
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) throw new ApiError(409, 'part_exists', `part "${body.id}" already exists`);
      throw error;
    }
  });

  app.get('/:id', async (c) => {
    const id = c.req.param('id');
    const handle = temporal.workflow.getHandle(id);
    // Live state first, SQL after: activities write SQL before they finish, so the mirror read
    // afterwards is never older than the state the workflow reported.
    const description = await describeIfExists(handle);
    const running = description?.status.name === 'RUNNING';
    const live = running && description.type === PART_WORKFLOW_TYPE ? await handle.query<PartRunState>(PART_RUN_STATE_QUERY).catch(() => undefined) : undefined;
    const record = await getPartRecord(db, id);
    if (!record && !description) throw new ApiError(404, 'part_not_found', `part "${id}" not found`);
    const [owner, actions] = await Promise.all([
      record?.part.ownerId ? findParticipant(db, record.part.ownerId) : undefined,
      record ? listOperatorActions(db, id) : [],
    ]);
    return c.json({
      id,
      tokenId: tokenIdOf(id).toString(),
      status: record?.part.status ?? 'starting',
      lifecycle: record ? { name: record.part.lifecycle, version: record.part.lifecycleVersion } : undefined,
      params: record?.part.params ?? {},
      owner: owner ? { id: owner.id, name: owner.name, address: owner.address } : null,
      currentStep: live?.currentStep ?? null,
      steps: stepViews(record, live),
      variables: live?.variables ?? variablesFrom(record),
      ownership: (record?.ownership ?? []).map((change) => ({
        from: change.fromId,
        to: change.toId,
        txHash: change.txHash,
        blockNumber: change.blockNumber,
        at: change.createdAt,
      })),
      workflow: description
        ? { id: description.workflowId, runId: description.runId, type: description.type, status: description.status.name, state: live?.status }
        : null,
      operatorActions: actions.map((action) => ({
        id: action.id,
        action: action.action,
        step: action.stepId,
        actor: action.actor,
        reason: action.reason,
        before: action.before,
        after: action.after,
        at: action.createdAt,
      })),
      createdAt: record?.part.createdAt,
      updatedAt: record?.part.updatedAt,
    });
  });

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
  async function eventTarget(c: Context) {
    const id = c.req.param('id')!;
    const event = c.req.param('name')!;
    const handle = temporal.workflow.getHandle(id);
    const part = await getPart(db, id);
    let pinned: { name?: string; version?: number; ended?: string };
    if (part) {
      pinned = { name: part.lifecycle, version: part.lifecycleVersion, ended: ENDED_PART_STATUSES.has(part.status) ? part.status : undefined };
    } else {
      const description = await describeIfExists(handle);
      if (!description) throw new ApiError(404, 'part_not_found', `part "${id}" not found`);
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
      throw new ApiError(404, 'unknown_event', `part "${id}" (${pinned.name ?? 'no lifecycle'} v${pinned.version ?? '?'}) awaits no event "${event}"${events.length ? `; it awaits: ${events.join(', ')}` : ''}`);
    }
    if (pinned.ended) throw notActive(id, pinned.ended);
    return { id, event, handle, awaiting };
  }

  app.post('/:id/signals/:name', async (c) => {
    const { id, event, handle, awaiting } = await eventTarget(c);
    const payload = await readJson(c, eventPayloadSchema);
    // A signal cannot be refused by the workflow, so check it here against every step awaiting it.
    const problems = await Promise.all(awaiting.map((step) => payloadProblems(step.params.payload as FieldSpecs, payload)));
    if (problems.every((list) => list.length > 0)) throw fieldError('invalid_payload', `payload of "${event}"`, problems[0]!);
    try {
      await handle.signal(event, payload);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw notActive(id, 'closed');
      throw error;
    }
    return c.json({ id, event, delivered: 'signal' }, 202);
  });

  app.post('/:id/updates/:name', async (c) => {
    const { id, event, handle, awaiting } = await eventTarget(c);
    const payload = await readJson(c, eventPayloadSchema);
    // The workflow's validator judges the payload's shape; whether named participants exist is for
    // SQL to say, once the shape is right.
    const specs = awaiting[0]!.params.payload as FieldSpecs;
    const unknown = checkFields(specs, payload).length === 0 ? await unknownParticipants(specs, payload) : [];
    if (unknown.length > 0) throw fieldError('invalid_payload', `payload of "${event}"`, unknown);
    try {
      const accepted = await handle.executeUpdate<AwaitAccepted, [Record<string, unknown>]>(event, { args: [payload] });
      return c.json({ id, ...accepted, delivered: 'update' });
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
        const failure = error.cause;
        if (failure.type === 'InvalidPayload') throw fieldError('invalid_payload', `payload of "${event}"`, (failure.details?.[0] as { field: string; message: string }[]) ?? []);
        if (failure.type === 'NotAwaiting') throw new ApiError(409, 'not_awaiting', failure.message);
      }
      if (error instanceof WorkflowNotFoundError) throw notActive(id, 'closed');
      throw error;
    }
  });

  // Ops: decide on the step a part is parked on. The workflow validates the decision.
  const ops = { db, temporal };
  app.post('/:id/steps/:stepId/retry', async (c) => {
    const body = await readOptionalJson(c, retryBody);
    const id = c.req.param('id');
    const step = c.req.param('stepId');
    const decision = { action: 'retry' as const, step, actor: operatorOf(c), ...body };
    await asApiErrors(() => sendDecision(ops, id, decision, idempotencyKeyOf(c)));
    return c.json({ id, step, action: 'retry', ...(body.params ? { params: body.params } : {}) });
  });

  app.post('/:id/steps/:stepId/skip', async (c) => {
    const { reason } = await readJson(c, reasonBody);
    const id = c.req.param('id');
    const step = c.req.param('stepId');
    await asApiErrors(() => sendDecision(ops, id, { action: 'skip', step, reason, actor: operatorOf(c) }, idempotencyKeyOf(c)));
    return c.json({ id, step, action: 'skip' });
  });

  app.post('/:id/abort', async (c) => {
    const { reason } = await readJson(c, reasonBody);
    const id = c.req.param('id');
    const accepted = await asApiErrors(() => sendDecision(ops, id, { action: 'abort', reason, actor: operatorOf(c) }, idempotencyKeyOf(c)));
    return c.json({ id, step: accepted.step, action: 'abort' });
  });

  app.post('/:id/reset', async (c) => {
    const body = await readJson(c, resetBody);
    const id = c.req.param('id');
    const result = await asApiErrors(() => resetPart(ops, id, { ...body, actor: operatorOf(c), requestId: idempotencyKeyOf(c) }));
    return c.json(result);
  });

  return app;
}

function notActive(id: string, status: string): ApiError {
  return new ApiError(409, 'part_not_active', `part "${id}" is ${status} and takes no more events`);
}

function awaitSteps(lifecycle: CompiledLifecycle, event?: string): CompiledStep[] {
  return lifecycle.steps.filter((step) => step.kind === 'await' && (event === undefined || step.params.event === event));
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
