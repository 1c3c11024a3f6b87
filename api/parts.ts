// /parts: start a part on a lifecycle version, read its state (with its operator audit trail),
// deliver the events its `await` steps wait for (as signals, or as updates that answer once the step
// has taken them), and let ops retry, skip or abort a failed step, or reset the part's workflow.
import { Hono } from 'hono';
import { z } from 'zod';
import { findParticipant } from '../db/participants.js';
import { listOperatorActions } from '../db/operator-actions.js';
import { getPartRecord } from '../db/parts.js';
import { sendDecision } from '../ops/decisions.js';
import { resetPart } from '../ops/reset.js';
import type { PartRecord } from '../db/parts.js';
import { tokenIdOf } from '../ledger/part-registry.js';
import { PART_ID_PATTERN } from '../workflows/definition.js';
import { PART_RUN_STATE_QUERY, PART_WORKFLOW_TYPE } from '../workflows/part-types.js';
import type { PartRunState } from '../workflows/part-types.js';
import type { ApiDeps } from './deps.js';
import { actingParticipant } from './auth.js';
import { ApiError, readJson, readOptionalJson } from './errors.js';
import { operatorOf, asApiErrors, idempotencyKeyOf } from './operator.js';
import { partCommands } from '../commands/parts.js';
import { describeIfExists } from '../commands/workflow-handles.js';

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
  const { db, temporal } = deps;
  const app = new Hono();

  const commands = partCommands(deps);

  app.post('/', async (c) => {
    const body = await readJson(c, createPartSchema);
    const started = await commands.start(body, actingParticipant(c).id);
    return c.json(started, 201, { location: `/parts/${encodeURIComponent(body.id)}` });
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

  app.post('/:id/signals/:name', async (c) => {
    const id = c.req.param('id');
    const event = c.req.param('name');
    // The part and its event first (404, 409), then the body (400).
    const target = await commands.eventTarget(id, event);
    const payload = await readJson(c, eventPayloadSchema);
    await commands.signal(id, event, payload, undefined, target);
    return c.json({ id, event, delivered: 'signal' }, 202);
  });

  app.post('/:id/updates/:name', async (c) => {
    const id = c.req.param('id');
    const event = c.req.param('name');
    const target = await commands.eventTarget(id, event);
    const payload = await readJson(c, eventPayloadSchema);
    const accepted = await commands.update(id, event, payload, undefined, target);
    return c.json({ id, ...accepted, delivered: 'update' });
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
