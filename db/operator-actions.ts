// The audit trail of operator actions: written with the state change it describes, read per part.
import { asc, eq } from 'drizzle-orm';
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

/** A part's operator actions, oldest first. */
export function listOperatorActions(db: Db, partId: string): Promise<OperatorActionRow[]> {
  return db.select().from(operatorActions).where(eq(operatorActions.partId, partId)).orderBy(asc(operatorActions.id));
}
