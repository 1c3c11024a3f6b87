// /events/subscriptions: durable event streams. Any participant may subscribe to the ledger's
// events, filtered by event, part or participant: a webhook (pushed to a URL, signed with a secret
// shown once, at creation) or a WebSocket subscription (resumed after its last acknowledgement).
// Subscriptions belong to their creator: to anyone else (but an admin) they do not exist.
import { randomBytes, randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import { createSubscription, deleteSubscription, getSubscription, listDeliveries, listSubscriptions, reactivateSubscription } from '../db/event-subscriptions.js';
import type { DeliveryRow, SubscriptionRow } from '../db/event-subscriptions.js';
import { findParticipant } from '../db/participants.js';
import { cursorOf, eventFilterSchema, latestSeq, streamStartSchema, MAX_SEQ } from '../streams/events.js';
import { API_ROLES, actingParticipant } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiError, readJson, readOptionalJson, readQuery } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const webhookUrl = z
  .string()
  .max(2000)
  .url()
  .regex(/^https?:\/\//i, 'an http or https URL');

const createBody = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits and . _ -, at most 100 characters'),
    kind: z.enum(['webhook', 'websocket']),
    filter: eventFilterSchema.default({}),
    start: streamStartSchema.default('newest'),
    url: webhookUrl.optional(),
    secret: z.string().min(16).max(200).optional(),
  })
  .strict()
  .superRefine((body, ctx) => {
    if (body.kind === 'webhook' && body.url === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'required for a webhook' });
    if (body.kind === 'websocket') {
      if (body.url !== undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'only for a webhook (a WebSocket subscriber connects to the API)' });
      if (body.secret !== undefined) ctx.addIssue({ code: 'custom', path: ['secret'], message: 'only for a webhook' });
    }
  });

const listQuery = z.object({ all: z.enum(['true', 'false']).default('false') }).strict();

const deliveriesQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.coerce.number().int().min(1).max(MAX_SEQ).optional(),
  })
  .strict();

const redeliverBody = z.object({ from: z.number().int().min(0).max(MAX_SEQ).optional() }).strict();

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

export function eventSubscriptionRoutes(deps: ApiDeps): Hono {
  const { db, ledger } = deps;
  const app = new Hono();

  /** The subscription if the caller may see it; 404 alike for a missing one and someone else's. */
  async function requireSubscription(c: Context): Promise<SubscriptionRow> {
    const id = c.req.param('id') ?? '';
    const row = UUID.test(id) ? await getSubscription(db, id.toLowerCase()) : undefined;
    if (!row || (row.ownerId !== actingParticipant(c).id && !isAdmin(c))) throw new ApiError(404, 'subscription_not_found', `no subscription "${id}"`);
    return row;
  }

  /** A cursor past the latest event would silently skip the events up to it. */
  async function checkSeq(field: string, seq: number): Promise<void> {
    const latest = await latestSeq(db, ledger);
    if (seq > latest) throw new ApiError(422, 'seq_out_of_range', `${field}: ${seq} is past the latest event (${latest})`, [{ field, message: `at most ${latest}` }]);
  }

  app.post('/', async (c) => {
    const owner = actingParticipant(c);
    const body = await readJson(c, createBody);
    const participant = body.filter.participant;
    if (participant !== undefined && !(await findParticipant(db, participant))) {
      throw new ApiError(422, 'unknown_participant', `filter.participant: unknown participant "${participant}"`, [{ field: 'filter.participant', message: `unknown participant "${participant}"` }]);
    }
    if (typeof body.start === 'number') await checkSeq('start', body.start);
    const secret = body.kind === 'webhook' ? (body.secret ?? randomBytes(32).toString('hex')) : undefined;
    const row = await createSubscription(db, {
      id: randomUUID(),
      ownerId: owner.id,
      name: body.name,
      kind: body.kind,
      filter: body.filter,
      cursor: await cursorOf(db, ledger, body.start),
      url: body.url,
      secret,
    });
    if (!row) throw new ApiError(409, 'subscription_exists', `you have a subscription named "${body.name}" already`);
    return c.json({ ...subscriptionView(row), ...(secret === undefined ? {} : { secret }) }, 201);
  });

  app.get('/', async (c) => {
    const { all } = readQuery(c, listQuery);
    if (all === 'true' && !isAdmin(c)) throw new ApiError(403, 'forbidden', 'only an admin may list all subscriptions (all=true)');
    const rows = await listSubscriptions(db, all === 'true' ? undefined : actingParticipant(c).id);
    return c.json({ subscriptions: rows.map((row) => (all === 'true' ? { ...subscriptionView(row), ownerId: row.ownerId } : subscriptionView(row))) });
  });

  app.get('/:id', async (c) => c.json(subscriptionView(await requireSubscription(c))));

  app.delete('/:id', async (c) => {
    const row = await requireSubscription(c);
    await deleteSubscription(db, row.id);
    return c.body(null, 204);
  });

  app.get('/:id/deliveries', async (c) => {
    const row = await requireSubscription(c);
    const page = readQuery(c, deliveriesQuery);
    const rows = await listDeliveries(db, row.id, page);
    const nextBefore = rows.length === page.limit ? rows[rows.length - 1]!.id : null;
    return c.json({ deliveries: rows.map(deliveryView), nextBefore });
  });

  /** Back to work: active, no failures, due now; with `from`, the events after it are delivered (again). */
  app.post('/:id/redeliver', async (c) => {
    const row = await requireSubscription(c);
    const { from } = await readOptionalJson(c, redeliverBody);
    if (from !== undefined) await checkSeq('from', from);
    const updated = await reactivateSubscription(db, row.id, from);
    if (!updated) throw new ApiError(404, 'subscription_not_found', `no subscription "${row.id}"`);
    return c.json(subscriptionView(updated));
  });

  return app;
}
