// Durable event subscriptions: who wants which ledger events, and how far each has been delivered.
import { and, asc, desc, eq, isNull, lt, lte, notInArray, or, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { eventSubscriptions, webhookDeliveries } from './schema.js';
import type { EventFilter, SubscriptionKind } from './schema.js';

export type SubscriptionRow = typeof eventSubscriptions.$inferSelect;

export interface NewSubscription {
  id: string;
  ownerId: string;
  name: string;
  kind: SubscriptionKind;
  filter: EventFilter;
  cursor: number;
  url?: string;
  secret?: string;
}

/** Creates the subscription; `undefined` when its owner already has one of that name. */
export async function createSubscription(db: Db, subscription: NewSubscription): Promise<SubscriptionRow | undefined> {
  const [row] = await db.insert(eventSubscriptions).values(subscription).onConflictDoNothing().returning();
  return row;
}

export async function getSubscription(db: Db, id: string): Promise<SubscriptionRow | undefined> {
  const [row] = await db.select().from(eventSubscriptions).where(eq(eventSubscriptions.id, id));
  return row;
}

export async function listSubscriptions(db: Db, ownerId?: string): Promise<SubscriptionRow[]> {
  return db
    .select()
    .from(eventSubscriptions)
    .where(ownerId ? eq(eventSubscriptions.ownerId, ownerId) : undefined)
    .orderBy(asc(eventSubscriptions.createdAt), asc(eventSubscriptions.name));
}

export async function deleteSubscription(db: Db, id: string): Promise<boolean> {
  const deleted = await db.delete(eventSubscriptions).where(eq(eventSubscriptions.id, id)).returning({ id: eventSubscriptions.id });
  return deleted.length > 0;
}

/** Moves the cursor forward to `seq` (never back: a late acknowledgement changes nothing). */
export async function advanceCursor(db: Db, id: string, seq: number): Promise<void> {
  await db
    .update(eventSubscriptions)
    .set({ cursor: seq, updatedAt: new Date() })
    .where(and(eq(eventSubscriptions.id, id), lt(eventSubscriptions.cursor, seq)));
}

/** Puts a subscription back to work: active, no failures, due now; optionally from another cursor. */
export async function reactivateSubscription(db: Db, id: string, cursor?: number): Promise<SubscriptionRow | undefined> {
  const [row] = await db
    .update(eventSubscriptions)
    .set({
      status: 'active',
      failures: 0,
      nextAttemptAt: null,
      lastError: null,
      updatedAt: new Date(),
      ...(cursor === undefined ? {} : { cursor }),
    })
    .where(eq(eventSubscriptions.id, id))
    .returning();
  return row;
}

/** Subscriptions of a kind that are active, for a deliverer to work on. */
export async function activeSubscriptions(db: Db, kind: SubscriptionKind): Promise<SubscriptionRow[]> {
  return db
    .select()
    .from(eventSubscriptions)
    .where(
      and(
        eq(eventSubscriptions.kind, kind),
        eq(eventSubscriptions.status, 'active'),
        sql`(${eventSubscriptions.nextAttemptAt} is null or ${eventSubscriptions.nextAttemptAt} <= now())`,
      ),
    )
    .orderBy(asc(eventSubscriptions.createdAt));
}

// --- Webhook delivery bookkeeping -------------------------------------------------------------
// A dispatcher works on a webhook subscription under a lease: `nextAttemptAt` set a little into the
// future, which takes the subscription out of everyone's due list. Each write of the pass is guarded
// by that exact value, so a pass whose lease was lost (expired and claimed elsewhere, or reset by a
// redelivery or a delete) changes nothing and stops.

export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** A webhook subscription claimed for one delivery pass. */
export interface WebhookClaim {
  subscription: SubscriptionRow;
  /** The pass's lease: the subscription's `nextAttemptAt` while the pass holds it. */
  lease: Date;
}

/** `now() + ms`, in whole milliseconds so that the value read back into a Date compares equal. */
const inMs = (ms: number) => sql<Date>`date_trunc('milliseconds', now()) + ${Math.round(ms)}::integer * interval '1 millisecond'`;

const dueWebhook = and(
  eq(eventSubscriptions.kind, 'webhook'),
  eq(eventSubscriptions.status, 'active'),
  or(isNull(eventSubscriptions.nextAttemptAt), lte(eventSubscriptions.nextAttemptAt, sql`now()`)),
);

/**
 * Claims one due webhook subscription (not in `skip`) for `leaseMs`. SKIP LOCKED lets concurrent
 * dispatchers claim different subscriptions without waiting on each other; a subscription another
 * dispatcher has just claimed is no longer due, so it is never claimed twice.
 */
export async function claimDueWebhook(db: Db, leaseMs: number, skip: readonly string[] = []): Promise<WebhookClaim | undefined> {
  const next = db
    .select({ id: eventSubscriptions.id })
    .from(eventSubscriptions)
    .where(and(dueWebhook, skip.length > 0 ? notInArray(eventSubscriptions.id, [...skip]) : undefined))
    .orderBy(asc(eventSubscriptions.createdAt))
    .limit(1)
    .for('update', { skipLocked: true });
  const [row] = await db
    .update(eventSubscriptions)
    .set({ nextAttemptAt: inMs(leaseMs) })
    // A scalar subquery (`= (…)`, not `in (…)`): run once, so it locks and returns one row at most.
    .where(and(eq(eventSubscriptions.id, sql`(${next})`), dueWebhook))
    .returning();
  return row && { subscription: row, lease: row.nextAttemptAt! };
}

/** The attempt number of the next try at `eventSeq`: 1 + the tries before it (across redeliveries). */
export async function nextAttemptNumber(db: Db, subscriptionId: string, eventSeq: number): Promise<number> {
  const [row] = await db
    .select({ last: sql<number | null>`max(${webhookDeliveries.attempt})` })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.subscriptionId, subscriptionId), eq(webhookDeliveries.eventSeq, eventSeq)));
  return Number(row?.last ?? 0) + 1;
}

export type NewDelivery = Omit<DeliveryRow, 'id' | 'at'>;

/** What an attempt changes on its subscription. */
export type AttemptOutcome =
  /** The receiver took it: the cursor moves to the event, failures reset, the lease is renewed. */
  | { kind: 'delivered'; leaseMs: number }
  /** The receiver did not: retry after `retryInMs`, or never (dead) once `dead`. */
  | { kind: 'failed'; failures: number; dead: boolean; retryInMs: number; lastError: string }
  /** The dispatcher stopped mid-request: not the receiver's fault, the subscription is due again. */
  | { kind: 'interrupted' };

/**
 * Logs an attempt (while its subscription exists) and applies its outcome if the pass still holds
 * `lease`. Returns the subscription's new lease after a delivery, undefined otherwise or when the
 * lease was lost.
 */
export async function settleWebhookAttempt(db: Db, lease: Date, attempt: NewDelivery, outcome: AttemptOutcome): Promise<Date | undefined> {
  const change =
    outcome.kind === 'delivered'
      ? {
          cursor: sql<number>`greatest(${eventSubscriptions.cursor}, ${attempt.eventSeq})`,
          failures: 0,
          lastError: null,
          nextAttemptAt: inMs(outcome.leaseMs),
        }
      : outcome.kind === 'failed'
        ? {
            failures: outcome.failures,
            lastError: outcome.lastError,
            status: outcome.dead ? ('dead' as const) : ('active' as const),
            nextAttemptAt: outcome.dead ? null : inMs(outcome.retryInMs),
          }
        : { nextAttemptAt: null };
  return db.transaction(async (tx) => {
    const [held] = await tx
      .update(eventSubscriptions)
      .set({ ...change, updatedAt: new Date() })
      .where(and(eq(eventSubscriptions.id, attempt.subscriptionId), eq(eventSubscriptions.nextAttemptAt, lease)))
      .returning({ nextAttemptAt: eventSubscriptions.nextAttemptAt });
    // A subscription deleted meanwhile keeps no log (its deliveries went with it).
    await tx.execute(sql`
      insert into webhook_deliveries (subscription_id, event_seq, attempt, status_code, error, duration_ms, delivered)
      select ${attempt.subscriptionId}::uuid, ${attempt.eventSeq}::integer, ${attempt.attempt}::integer, ${attempt.statusCode}::integer, ${attempt.error}::text, ${attempt.durationMs}::integer, ${attempt.delivered}::boolean
      where exists (select 1 from event_subscriptions where id = ${attempt.subscriptionId}::uuid)`);
    return outcome.kind === 'delivered' ? (held?.nextAttemptAt ?? undefined) : undefined;
  });
}

/** Ends a pass: the subscription is due again at once (if the pass still holds `lease`). */
export async function releaseWebhook(db: Db, subscriptionId: string, lease: Date): Promise<void> {
  await db
    .update(eventSubscriptions)
    .set({ nextAttemptAt: null })
    .where(and(eq(eventSubscriptions.id, subscriptionId), eq(eventSubscriptions.nextAttemptAt, lease)));
}

/** A subscription's delivery log, newest first, `limit` rows with an id below `before`. */
export async function listDeliveries(db: Db, subscriptionId: string, page: { limit: number; before?: number }): Promise<DeliveryRow[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(
      and(
        eq(webhookDeliveries.subscriptionId, subscriptionId),
        page.before === undefined ? undefined : lt(webhookDeliveries.id, page.before),
      ),
    )
    .orderBy(desc(webhookDeliveries.id))
    .limit(page.limit);
}

/**
 * Deletes delivery-log rows older than `olderThanMs`, but never one still pending: a failed attempt
 * at an event past its subscription's cursor (not delivered yet) stays, however old, so the log
 * always says why a subscription is stuck or dead. Deletes in batches (short transactions, no huge
 * answer); returns the number deleted.
 */
export async function pruneDeliveries(db: Db, olderThanMs: number, batch = 5_000): Promise<number> {
  let total = 0;
  for (;;) {
    const { rows } = (await db.execute(sql`
      delete from webhook_deliveries where id in (
        select d.id from webhook_deliveries d
        join event_subscriptions s on s.id = d.subscription_id
        where d.created_at < now() - ${Math.round(olderThanMs)}::bigint * interval '1 millisecond'
          and (d.delivered or d.event_seq <= s.cursor)
        limit ${batch})
      returning id`)) as unknown as { rows: unknown[] };
    total += rows.length;
    if (rows.length < batch) return total;
  }
}

/**
 * Seals every webhook secret still stored in clear (rows from before secrets were encrypted), each
 * only if it is unchanged since it was read. Returns how many it sealed.
 */
export async function sealPlainSecrets(db: Db, isSealed: (stored: string) => boolean, seal: (plain: string) => string): Promise<number> {
  const rows = await db
    .select({ id: eventSubscriptions.id, secret: eventSubscriptions.secret })
    .from(eventSubscriptions)
    .where(and(eq(eventSubscriptions.kind, 'webhook'), sql`${eventSubscriptions.secret} is not null`));
  let sealed = 0;
  for (const row of rows) {
    if (row.secret === null || isSealed(row.secret)) continue;
    const updated = await db
      .update(eventSubscriptions)
      .set({ secret: seal(row.secret) })
      .where(and(eq(eventSubscriptions.id, row.id), eq(eventSubscriptions.secret, row.secret)))
      .returning({ id: eventSubscriptions.id });
    sealed += updated.length;
  }
  return sealed;
}
