// The audit trail of operator actions: written with the state change it describes, read per part.
import { and, asc, eq } from 'drizzle-orm';
import type { Db } from './client.js';
import { operatorActions } from './schema.js';

export type OperatorActionRow = typeof operatorActions.$inferSelect;
export type NewOperatorAction = Omit<typeof operatorActions.$inferInsert, 'id' | 'createdAt'>;

/** Records an action once per request id; false when it was recorded before (a retried write). */
export async function insertOperatorAction(db: Db, action: NewOperatorAction): Promise<boolean> {
  const inserted = await db
    .insert(operatorActions)
    .values(action)
    .onConflictDoNothing({ target: operatorActions.requestId })
    .returning({ id: operatorActions.id });
  return inserted.length > 0;
}

/** Completes a recorded action with what it led to (a reset's new run). */
export async function completeOperatorAction(db: Db, requestId: string, after: Record<string, unknown>): Promise<void> {
  await db.update(operatorActions).set({ after }).where(eq(operatorActions.requestId, requestId));
}

/** Takes back the record of an action that was refused, so no record claims what did not happen. */
export async function withdrawOperatorAction(db: Db, requestId: string, partId: string): Promise<void> {
  await db.delete(operatorActions).where(and(eq(operatorActions.requestId, requestId), eq(operatorActions.partId, partId)));
}

/** A part's operator actions, oldest first. */
export function listOperatorActions(db: Db, partId: string): Promise<OperatorActionRow[]> {
  return db.select().from(operatorActions).where(eq(operatorActions.partId, partId)).orderBy(asc(operatorActions.id));
}
