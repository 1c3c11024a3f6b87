// Durable event subscriptions: who wants which ledger events, and how far each has been delivered.
import { and, asc, eq, lt, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { eventSubscriptions } from './schema.js';
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
    .set({ status: 'active', failures: 0, nextAttemptAt: null, lastError: null, updatedAt: new Date(), ...(cursor === undefined ? {} : { cursor }) })
    .where(eq(eventSubscriptions.id, id))
    .returning();
  return row;
}

/** Subscriptions of a kind that are active, for a deliverer to work on. */
export async function activeSubscriptions(db: Db, kind: SubscriptionKind): Promise<SubscriptionRow[]> {
  return db
    .select()
    .from(eventSubscriptions)
    .where(and(eq(eventSubscriptions.kind, kind), eq(eventSubscriptions.status, 'active'), sql`(${eventSubscriptions.nextAttemptAt} is null or ${eventSubscriptions.nextAttemptAt} <= now())`))
    .orderBy(asc(eventSubscriptions.createdAt));
}
