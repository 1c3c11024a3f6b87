// /events/subscriptions: durable event streams. Any participant may subscribe to the ledger's
// events, filtered by event, part or participant: a webhook (pushed to a URL, signed with a secret
// shown once, at creation) or a WebSocket subscription (resumed after its last acknowledgement).
// Subscriptions belong to their creator: to anyone else (but an admin) they do not exist.
import { randomUUID } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  listDeliveries,
  listSubscriptions,
  reactivateSubscription,
} from '../db/event-subscriptions.js';
import type { DeliveryRow, SubscriptionRow } from '../db/event-subscriptions.js';
import { findParticipant } from '../db/participants.js';
import { newWebhookSecret } from '../domain/streams/webhook-signature.js';
import { WebhookTargetRefused } from '../domain/streams/webhook-targets.js';
import type { AddressClass } from '../domain/streams/webhook-targets.js';
import { cursorOf, eventFilterSchema, latestSeq, streamStartSchema, LEDGER_EVENT_NAMES, MAX_SEQ } from '../domain/streams/events.js';
import { API_ROLES, actingParticipant } from './auth.js';
import type { ApiDeps } from './deps.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { apiRouter, errors, jsonBody, jsonResponse, route } from './openapi.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const webhookUrl = z
  .string()
  .max(2000)
  .url()
  .regex(/^https?:\/\//i, 'an http or https URL')
  .openapi({
    description:
      'Where a webhook POSTs each event (webhooks only); its host must be a public address (WEBHOOK_ALLOWED_NETWORKS allows more)',
    example: 'https://example.com/hooks/tracewell',
  });

const createBody = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits and . _ -, at most 100 characters')
      .openapi({ description: 'Unique among your subscriptions', example: 'erp-sync' }),
    kind: z
      .enum(['webhook', 'websocket'])
      .openapi({ description: 'A webhook is pushed to `url`; a WebSocket subscriber connects to the API' }),
    filter: eventFilterSchema.default({}).openapi({ description: 'Which events; an empty or missing list matches everything' }),
    start: streamStartSchema
      .default('newest')
      .openapi({ description: '`oldest` (every event), `newest` (events from now on) or the sequence number to start after' }),
    url: webhookUrl.optional(),
    secret: z.string().min(16).max(200).optional().openapi({
      description:
        'The signing secret (webhooks only): `whsec_` and base64 key bytes as Standard Webhooks has it, or any string used as its UTF-8 bytes; default: a random `whsec_` one, shown once',
    }),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.kind === 'webhook' && body.url === undefined)
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'required for a webhook' });
    if (body.kind === 'websocket') {
      if (body.url !== undefined)
        ctx.addIssue({ code: 'custom', path: ['url'], message: 'only for a webhook (a WebSocket subscriber connects to the API)' });
      if (body.secret !== undefined) ctx.addIssue({ code: 'custom', path: ['secret'], message: 'only for a webhook' });
    }
  })
  .openapi('NewSubscription');

const listQuery = z
  .object({
    all: z
      .enum(['true', 'false'])
      .default('false')
      .openapi({ description: "`true`: everyone's subscriptions, with their owners (admin only)" }),
  })
  .strict();

const deliveriesQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50).openapi({ description: 'At most this many deliveries' }),
    before: z.coerce.number().int().min(1).max(MAX_SEQ).optional().openapi({ description: 'The `nextBefore` of the previous page' }),
  })
  .strict();

const redeliverBody = z
  .object({
    from: z.number().int().min(0).max(MAX_SEQ).optional().openapi({ description: 'Deliver the events after this sequence number (again)' }),
  })
  .strict()
  .openapi('Redelivery');

// Any string: a malformed id is a subscription that does not exist (404), as is someone else's.
const idParams = z.object({ id: z.string().openapi({ description: "The subscription's id (a UUID)" }) });

const SubscriptionSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    kind: z.enum(['webhook', 'websocket']),
    filter: z.object({
      events: z
        .array(z.string())
        .optional()
        .openapi({ description: `Event names: ${LEDGER_EVENT_NAMES.join(', ')}` }),
      parts: z.array(z.string()).optional().openapi({ description: 'Events of any of these parts' }),
      participant: z.string().optional().openapi({ description: 'Events involving this participant' }),
    }),
    cursor: z.number().int().openapi({ description: 'The last sequence number delivered and acknowledged' }),
    status: z.enum(['active', 'dead']).openapi({ description: '`dead`: a webhook that failed too often; redeliver to revive it' }),
    url: z.string().nullable(),
    failures: z.number().int().openapi({ description: 'Failed attempts at the event after the cursor' }),
    nextAttemptAt: z.string().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Subscription');

const CreatedSubscriptionSchema = SubscriptionSchema.extend({
  secret: z.string().optional().openapi({ description: "A webhook's signing secret: shown this once, never again" }),
}).openapi('CreatedSubscription');

const SubscriptionListSchema = z
  .object({
    subscriptions: z.array(SubscriptionSchema.extend({ ownerId: z.string().optional().openapi({ description: 'With `all=true` only' }) })),
  })
  .openapi('SubscriptionList');

const DeliverySchema = z
  .object({
    id: z.number().int(),
    eventSeq: z.number().int(),
    attempt: z.number().int(),
    statusCode: z.number().int().nullable().openapi({ description: "The receiver's status code (null when it did not answer)" }),
    error: z.string().nullable(),
    durationMs: z.number().int(),
    delivered: z.boolean(),
    at: z.string(),
  })
  .openapi('WebhookDelivery');

const DeliveryPageSchema = z
  .object({
    deliveries: z.array(DeliverySchema),
    nextBefore: z.number().int().nullable().openapi({ description: 'Pass as `before` for the next page; null on the last' }),
  })
  .openapi('WebhookDeliveryPage');

const TARGET_ERRORS = {
  unspecified: Errors.webhook_target_unspecified,
  metadata: Errors.webhook_target_metadata,
  loopback: Errors.webhook_target_loopback,
  link_local: Errors.webhook_target_link_local,
  private: Errors.webhook_target_private,
  unique_local: Errors.webhook_target_unique_local,
  shared: Errors.webhook_target_shared,
  multicast: Errors.webhook_target_multicast,
  reserved: Errors.webhook_target_reserved,
} satisfies Record<AddressClass, unknown>;

const tags = ['Event subscriptions'];

const routes = {
  create: route({
    method: 'post',
    path: '/',
    tags,
    summary: 'Subscribe to ledger events by webhook or WebSocket',
    description: "A webhook's signing secret is in this answer only.",
    request: { body: jsonBody(createBody) },
    responses: {
      201: jsonResponse(CreatedSubscriptionSchema, 'Subscribed'),
      ...errors(
        400,
        401,
        [409, 'You have a subscription of this name'],
        [422, 'An unknown participant in the filter, a start past the latest event, or a URL to a refused address (private, loopback, …)'],
      ),
    },
  }),
  list: route({
    method: 'get',
    path: '/',
    tags,
    summary: "Your subscriptions (everyone's with `all=true`: admin only)",
    request: { query: listQuery },
    responses: {
      200: jsonResponse(SubscriptionListSchema, 'The subscriptions, oldest first'),
      ...errors(400, 401, [403, '`all=true` without the admin role']),
    },
  }),
  get: route({
    method: 'get',
    path: '/{id}',
    tags,
    summary: 'A subscription (its owner or an admin)',
    request: { params: idParams },
    responses: { 200: jsonResponse(SubscriptionSchema, 'The subscription'), ...errors(401, 404) },
  }),
  delete: route({
    method: 'delete',
    path: '/{id}',
    tags,
    summary: 'Delete a subscription (its owner or an admin)',
    request: { params: idParams },
    responses: { 204: { description: 'Deleted' }, ...errors(401, 404) },
  }),
  deliveries: route({
    method: 'get',
    path: '/{id}/deliveries',
    tags,
    summary: "A webhook's delivery log, newest first, a page at a time (its owner or an admin)",
    request: { params: idParams, query: deliveriesQuery },
    responses: { 200: jsonResponse(DeliveryPageSchema, 'A page of deliveries'), ...errors(400, 401, 404) },
  }),
  redeliver: route({
    method: 'post',
    path: '/{id}/redeliver',
    tags,
    summary: 'Put a subscription back to work (its owner or an admin)',
    description: 'Active again, no failures, due now; with `from`, the events after it are delivered (again).',
    request: { params: idParams, body: jsonBody(redeliverBody, { required: false }) },
    responses: {
      200: jsonResponse(SubscriptionSchema, 'The subscription'),
      ...errors(400, 401, 404, [422, '`from` is past the latest event']),
    },
  }),
};

/** How a subscription looks to its owner; the secret is never shown again after creation. */
export function subscriptionView(row: SubscriptionRow) {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    filter: row.filter,
    cursor: row.cursor,
    status: row.status,
    url: row.url,
    failures: row.failures,
    nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

function deliveryView(row: DeliveryRow) {
  const { id, eventSeq, attempt, statusCode, error, durationMs, delivered, at } = row;
  return { id, eventSeq, attempt, statusCode, error, durationMs, delivered, at: at.toISOString() };
}

function isAdmin(c: Context): boolean {
  return actingParticipant(c).roles.includes(API_ROLES.admin);
}

export function eventSubscriptionRoutes(deps: ApiDeps) {
  const { db, ledger } = deps;
  const app = apiRouter();

  /** A URL whose host is, or resolves to, a refused address answers 422 with the class's code. */
  async function checkTarget(url: string): Promise<void> {
    try {
      await deps.webhookTargets.checkUrl(url);
    } catch (error) {
      if (!(error instanceof WebhookTargetRefused)) throw error;
      const entry = TARGET_ERRORS[error.addressClass];
      throw new CodedError(entry, { problem: error.message }, [{ field: 'url', message: error.message, address: error.address }]);
    }
  }

  /** The subscription if the caller may see it; 404 alike for a missing one and someone else's. */
  async function requireSubscription(c: Context, id: string): Promise<SubscriptionRow> {
    const row = UUID.test(id) ? await getSubscription(db, id.toLowerCase()) : undefined;
    if (!row || (row.ownerId !== actingParticipant(c).id && !isAdmin(c)))
      throw new CodedError(Errors.subscription_not_found, { reason: `no subscription "${id}"` });
    return row;
  }

  /** A cursor past the latest event would silently skip the events up to it. */
  async function checkSeq(field: string, seq: number): Promise<void> {
    const latest = await latestSeq(db, ledger);
    if (seq > latest) throw new CodedError(Errors.seq_out_of_range, { field, seq, latest }, [{ field, message: `at most ${latest}` }]);
  }

  app.openapi(routes.create, async (c) => {
    const owner = actingParticipant(c);
    const body = c.req.valid('json');
    const participant = body.filter.participant;
    if (participant !== undefined && !(await findParticipant(db, participant))) {
      throw new CodedError(Errors.unknown_participant, { field: 'filter.participant', problem: `no participant "${participant}"` }, [
        { field: 'filter.participant', message: `unknown participant "${participant}"` },
      ]);
    }
    if (typeof body.start === 'number') await checkSeq('start', body.start);
    if (body.url !== undefined) await checkTarget(body.url);
    const secret = body.kind === 'webhook' ? (body.secret ?? newWebhookSecret()) : undefined;
    const row = await createSubscription(db, {
      id: randomUUID(),
      ownerId: owner.id,
      name: body.name,
      kind: body.kind,
      filter: body.filter,
      cursor: await cursorOf(db, ledger, body.start),
      url: body.url,
      // Stored sealed: SQL alone never gives the secret away.
      secret: secret === undefined ? undefined : deps.webhookSecrets.seal(secret),
    });
    if (!row) throw new CodedError(Errors.subscription_exists, { name: body.name });
    return c.json({ ...subscriptionView(row), ...(secret === undefined ? {} : { secret }) }, 201);
  });

  app.openapi(routes.list, async (c) => {
    const { all } = c.req.valid('query');
    if (all === 'true' && !isAdmin(c))
      throw new CodedError(Errors.forbidden, { reason: 'only an admin may list all subscriptions (all=true)' });
    const rows = await listSubscriptions(db, all === 'true' ? undefined : actingParticipant(c).id);
    return c.json(
      { subscriptions: rows.map((row) => (all === 'true' ? { ...subscriptionView(row), ownerId: row.ownerId } : subscriptionView(row))) },
      200,
    );
  });

  app.openapi(routes.get, async (c) => c.json(subscriptionView(await requireSubscription(c, c.req.valid('param').id)), 200));

  app.openapi(routes.delete, async (c) => {
    const row = await requireSubscription(c, c.req.valid('param').id);
    await deleteSubscription(db, row.id);
    return c.body(null, 204);
  });

  app.openapi(routes.deliveries, async (c) => {
    const row = await requireSubscription(c, c.req.valid('param').id);
    const page = c.req.valid('query');
    const rows = await listDeliveries(db, row.id, page);
    const nextBefore = rows.length === page.limit ? rows[rows.length - 1]!.id : null;
    return c.json({ deliveries: rows.map(deliveryView), nextBefore }, 200);
  });

  app.openapi(routes.redeliver, async (c) => {
    const row = await requireSubscription(c, c.req.valid('param').id);
    const { from } = c.req.valid('json');
    if (from !== undefined) await checkSeq('from', from);
    const updated = await reactivateSubscription(db, row.id, from);
    if (!updated) throw new CodedError(Errors.subscription_not_found, { reason: `no subscription "${row.id}"` });
    return c.json(subscriptionView(updated), 200);
  });

  return app;
}
