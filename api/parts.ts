// /parts: start a part on a lifecycle version, read its state (with its operator audit trail),
// deliver the events its `await` steps wait for (as signals, or as updates that answer once the step
// has taken them), and let ops retry, skip or abort a failed step, or reset the part's workflow.
import { z } from '@hono/zod-openapi';
import { sendDecision } from '../domain/commands/decisions.js';
import { resetPart } from '../domain/commands/reset.js';
import { PARTICIPANT_ID_PATTERN, PARTICIPANT_ID_RULE, PART_ID_PATTERN } from '../workflows/definition.js';
import type { ApiDeps } from './deps.js';
import { actingParticipant, API_ROLES, roleRequired } from './auth.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { apiRouter, errors, jsonBody, jsonResponse, route } from './openapi.js';
import { versionNumber } from './input-limits.js';
import { idempotent, IdempotencyKeyHeader } from './idempotency.js';
import { partCommands } from '../domain/commands/parts.js';
import type { PartCommands } from '../domain/commands/parts.js';
import { readPart } from '../domain/commands/part-view.js';

const PartIdSchema = z
  .string()
  .regex(PART_ID_PATTERN, 'letters, digits and : . _ - (at most 200), starting with a letter or digit')
  .openapi({ description: "The part's id, e.g. a GS1 EPC URN", example: 'urn:epc:id:sgtin:0614141.107346.2017' });

const RoleBindingsSchema = z
  .record(z.string().regex(PARTICIPANT_ID_PATTERN, `a participant id: ${PARTICIPANT_ID_RULE}`))
  .openapi('RoleBindings', { description: 'Role name to participant id', example: { manufacturer: 'acme-foundry' } });

const createPartSchema = z
  .object({
    id: PartIdSchema,
    lifecycle: z.string().min(1).openapi({ description: 'The lifecycle definition to run', example: 'part-basic' }),
    version: versionNumber()
      .optional()
      .openapi({ description: "The version to pin (default: the lifecycle's default version; a deprecated one answers 409)" }),
    params: z.record(z.unknown()).default({}).openapi({ description: "Values for the definition's declared params" }),
    roles: RoleBindingsSchema.optional().openapi({
      description:
        "Which participant plays each role the steps name without one. Unnamed roles are bound, in order, from the parts it is made from, the lifecycle's rule (e.g. the caller's own company), its default, or the only holder; a role none of these binds answers 422 `unresolved_roles` with the candidates.",
      example: { manufacturer: 'delta-fab' },
    }),
  })
  .strict()
  .openapi('StartPart');

/** An event's payload: a JSON object (`{}` when the event carries nothing). */
const eventPayloadSchema = z
  .record(z.unknown())
  .openapi('EventPayload', { description: "The event's fields, as the awaiting step declares them" });

const reason = z.string().trim().min(1, 'required').max(1000).openapi({ description: 'Why, for the audit trail' });
const retryBody = z
  .object({
    params: z.record(z.unknown()).optional().openapi({ description: "Replaces the step's input for this run" }),
    reason: reason.optional(),
  })
  .strict();
const reasonBody = z.object({ reason }).strict();
const resetBody = z
  .object({
    reason,
    eventId: z
      .number()
      .int()
      .positive()
      .optional()
      .openapi({ description: 'The history event to reset to (default: the last workflow task before the failure)' }),
  })
  .strict();

/** The `{id}` of every /parts/{id}… route (any string: an unknown id answers 404, not 400). */
export const partIdParams = z.object({
  id: z.string().openapi({ description: "The part's id", example: 'urn:epc:id:sgtin:0614141.107346.2017' }),
});
const eventParams = partIdParams.extend({ name: z.string().openapi({ description: 'The event an await step waits for' }) });
const stepParams = partIdParams.extend({ stepId: z.string().openapi({ description: 'The step the part is parked on' }) });

const StartedPartSchema = z
  .object({
    id: z.string(),
    tokenId: z.string().openapi({ description: 'The ERC-721 token id (decimal)' }),
    lifecycle: z.object({ name: z.string(), version: z.number().int() }),
    roles: RoleBindingsSchema,
    workflow: z.object({ id: z.string(), runId: z.string() }),
  })
  .openapi('StartedPart');

const PartSchema = z
  .object({
    id: z.string(),
    tokenId: z.string(),
    status: z.string().openapi({ description: 'starting, active, parked, completed, failed or aborted' }),
    lifecycle: z.object({ name: z.string(), version: z.number().int() }).optional(),
    params: z.record(z.unknown()),
    roles: RoleBindingsSchema.openapi({ description: 'Who plays each role for this part, as bound at start' }),
    owner: z.object({ id: z.string(), name: z.string(), address: z.string() }).nullable(),
    currentStep: z.string().nullable(),
    steps: z.array(
      z.object({
        id: z.string(),
        kind: z.string(),
        status: z.string(),
        attempts: z.number().int(),
        runs: z.number().int().optional(),
        txHash: z.string().nullable(),
        output: z.unknown(),
        error: z.object({ code: z.string(), message: z.string().nullable() }).nullable(),
        startedAt: z.string().nullable(),
        finishedAt: z.string().nullable(),
      }),
    ),
    variables: z.record(z.unknown()),
    ownership: z.array(
      z.object({
        from: z.string().nullable(),
        to: z.string().nullable(),
        txHash: z.string(),
        blockNumber: z.string().nullable().openapi({ description: 'decimal' }),
        at: z.string(),
      }),
    ),
    workflow: z
      .object({ id: z.string(), runId: z.string(), type: z.string(), status: z.string(), state: z.string().optional() })
      .nullable(),
    operatorActions: z.array(
      z.object({
        id: z.number().int(),
        action: z.string(),
        step: z.string().nullable(),
        actor: z.string(),
        reason: z.string().nullable(),
        before: z.unknown(),
        after: z.unknown(),
        at: z.string(),
      }),
    ),
    createdAt: z.string().optional(),
    updatedAt: z.string().optional(),
  })
  .openapi('Part');

const DeliveredSchema = z.object({
  id: z.string(),
  event: z.string(),
  delivered: z.enum(['signal', 'update']),
  step: z.string().optional(),
  payload: z.record(z.unknown()).optional(),
});
const DecisionSchema = z.object({
  id: z.string(),
  step: z.string().optional(),
  action: z.enum(['retry', 'skip', 'abort']),
  params: z.record(z.unknown()).optional(),
});
const ResetSchema = z
  .object({ partId: z.string(), previousRunId: z.string(), runId: z.string(), eventId: z.number().int() })
  .openapi('PartReset');

const tags = ['Parts'];
const opsTags = ['Ops'];

/** An operator's action on a part: operators only, one action per Idempotency-Key. */
function operatorRoute<P extends z.AnyZodObject, B extends z.ZodTypeAny, R extends z.ZodTypeAny>(spec: {
  path: string;
  summary: string;
  params: P;
  body: ReturnType<typeof jsonBody<B>>;
  result: R;
  answered: string;
}) {
  return route({
    middleware: [roleRequired(API_ROLES.operator)],
    method: 'post',
    path: spec.path,
    tags: opsTags,
    summary: spec.summary,
    request: { params: spec.params, headers: IdempotencyKeyHeader, body: spec.body },
    responses: { 200: jsonResponse(spec.result, spec.answered), ...errors(400, 401, 403, 404, 409, 422) },
  });
}

const decided = 'The workflow took the decision';

const routes = {
  start: route({
    method: 'post',
    path: '/',
    tags,
    summary: 'Start a part on a lifecycle version (its workflow pins the version)',
    request: { body: jsonBody(createPartSchema) },
    responses: {
      201: jsonResponse(StartedPartSchema, 'Started; `location` names the part'),
      ...errors(
        400,
        401,
        [404, 'No such lifecycle or version'],
        [409, 'A part with this id exists (`part_exists`), or the version named is deprecated (`lifecycle_version_deprecated`)'],
        [
          422,
          'Params that the definition refuses (`invalid_params`), or roles that cannot be bound (`unresolved_roles`, with the candidates)',
        ],
      ),
    },
  }),
  get: route({
    method: 'get',
    path: '/{id}',
    tags,
    summary: "A part's state: pinned version, current step, step runs, variables, custody, workflow, operator actions",
    request: { params: partIdParams },
    responses: { 200: jsonResponse(PartSchema, 'The part'), ...errors(401, 404) },
  }),
  signal: route({
    method: 'post',
    path: '/{id}/signals/{name}',
    tags,
    summary: 'Deliver an event as a signal (kept by the part if it arrives before its step)',
    request: { params: eventParams, body: jsonBody(eventPayloadSchema, { required: false }) },
    responses: {
      202: jsonResponse(DeliveredSchema, 'Delivered'),
      ...errors(
        400,
        401,
        [404, 'No such part (part_not_found), or no step of its version waits for this event (unknown_event)'],
        [409, 'The part has ended (part_not_active)'],
        [422, 'A payload the step refuses'],
      ),
    },
  }),
  update: route({
    method: 'post',
    path: '/{id}/updates/{name}',
    tags,
    summary: 'Deliver an event as an update: validated by the workflow, answered once the step has taken it',
    request: { params: eventParams, body: jsonBody(eventPayloadSchema, { required: false }) },
    responses: {
      200: jsonResponse(DeliveredSchema, 'Taken by the step'),
      ...errors(400, 401, 404, [409, 'The part is not waiting for this event'], [422, 'A payload the step refuses']),
    },
  }),
  retry: operatorRoute({
    path: '/{id}/steps/{stepId}/retry',
    summary: 'Retry the failed step a part is parked on, optionally with edited input',
    params: stepParams,
    body: jsonBody(retryBody, { required: false }),
    result: DecisionSchema,
    answered: decided,
  }),
  skip: operatorRoute({
    path: '/{id}/steps/{stepId}/skip',
    summary: 'Skip the failed step a part is parked on',
    params: stepParams,
    body: jsonBody(reasonBody),
    result: DecisionSchema,
    answered: decided,
  }),
  abort: operatorRoute({
    path: '/{id}/abort',
    summary: 'Abort a parked part',
    params: partIdParams,
    body: jsonBody(reasonBody),
    result: DecisionSchema,
    answered: decided,
  }),
  reset: operatorRoute({
    path: '/{id}/reset',
    summary: "Reset a part's workflow to an earlier point of its history (a new run; state before it kept)",
    params: partIdParams,
    body: jsonBody(resetBody),
    result: ResetSchema,
    answered: 'The new run',
  }),
};

/** /parts: starting and reading parts, delivering their events, and the operator's decisions on them. */
export function partRoutes(deps: ApiDeps) {
  const app = apiRouter();
  // One set of commands, so the routes share its cache of pinned lifecycle versions.
  const commands = partCommands(deps);
  lifecycleRoutes(app, deps, commands);
  eventRoutes(app, commands);
  operatorRoutes(app, deps);
  return app;
}

type PartsRouter = ReturnType<typeof apiRouter>;

/** Start a part, and read it back. */
function lifecycleRoutes(app: PartsRouter, deps: ApiDeps, commands: PartCommands) {
  app.openapi(routes.start, async (c) => {
    const body = c.req.valid('json');
    const started = await commands.start(body, actingParticipant(c).id);
    return c.json(started, 201, { location: `/parts/${encodeURIComponent(body.id)}` });
  });

  app.openapi(routes.get, async (c) => {
    const { id } = c.req.valid('param');
    const part = await readPart(deps, id);
    if (!part) throw new CodedError(Errors.part_not_found, { id });
    return c.json(part, 200);
  });
}

/** Deliver the event an `await` step waits for, as a signal or as an update. */
function eventRoutes(app: PartsRouter, commands: PartCommands) {
  app.openapi(routes.signal, async (c) => {
    const { id, name: event } = c.req.valid('param');
    await commands.signal(actingParticipant(c), id, event, c.req.valid('json'));
    return c.json({ id, event, delivered: 'signal' as const }, 202);
  });

  app.openapi(routes.update, async (c) => {
    const { id, name: event } = c.req.valid('param');
    const accepted = await commands.update(actingParticipant(c), id, event, c.req.valid('json'));
    return c.json({ id, ...accepted, delivered: 'update' as const }, 200);
  });
}

/** Ops: decide on the step a part is parked on (the workflow validates the decision), or reset it. */
function operatorRoutes(app: PartsRouter, { db, temporal }: ApiDeps) {
  const ops = { db, temporal };
  app.openapi(routes.retry, async (c) => {
    const body = c.req.valid('json');
    const { id, stepId: step } = c.req.valid('param');
    const decision = { action: 'retry' as const, step, actor: actingParticipant(c).id, ...body };
    return idempotent(c, db, async (key) => {
      await sendDecision(ops, id, decision, key);
      return c.json({ id, step, action: 'retry' as const, ...(body.params ? { params: body.params } : {}) }, 200);
    });
  });

  app.openapi(routes.skip, async (c) => {
    const { reason } = c.req.valid('json');
    const { id, stepId: step } = c.req.valid('param');
    return idempotent(c, db, async (key) => {
      await sendDecision(ops, id, { action: 'skip', step, reason, actor: actingParticipant(c).id }, key);
      return c.json({ id, step, action: 'skip' as const }, 200);
    });
  });

  app.openapi(routes.abort, async (c) => {
    const { reason } = c.req.valid('json');
    const { id } = c.req.valid('param');
    return idempotent(c, db, async (key) => {
      const accepted = await sendDecision(ops, id, { action: 'abort', reason, actor: actingParticipant(c).id }, key);
      return c.json({ id, step: accepted.step, action: 'abort' as const }, 200);
    });
  });

  app.openapi(routes.reset, async (c) => {
    const body = c.req.valid('json');
    const { id } = c.req.valid('param');
    return idempotent(c, db, async (key) =>
      c.json(await resetPart(ops, id, { ...body, actor: actingParticipant(c).id, requestId: key }), 200),
    );
  });
}
