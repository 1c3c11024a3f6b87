// Participant look-ups and writes.
import { arrayOverlaps, eq, inArray, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { participants } from './schema.js';

export type Participant = typeof participants.$inferSelect;

export async function findParticipant(db: Db, id: string): Promise<Participant | undefined> {
  const [row] = await db.select().from(participants).where(eq(participants.id, id));
  return row;
}

export async function findParticipantByAddress(db: Db, address: string): Promise<Participant | undefined> {
  const [row] = await db
    .select()
    .from(participants)
    .where(sql`lower(${participants.address}) = lower(${address})`);
  return row;
}

/** The registered participants among these ids, by id (one query). */
export async function findParticipants(db: Db, ids: string[]): Promise<Map<string, Participant>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select().from(participants).where(inArray(participants.id, ids));
  return new Map(rows.map((row) => [row.id, row]));
}

/** Which of these ids are registered participants (one query). */
export async function existingParticipantIds(db: Db, ids: string[]): Promise<Set<string>> {
  return new Set((await findParticipants(db, ids)).keys());
}

export async function listParticipants(db: Db): Promise<Participant[]> {
  return db.select().from(participants).orderBy(participants.id);
}

/** The participants holding any of `roles`, by id (one query). */
export async function participantsHolding(db: Db, roles: string[]): Promise<Participant[]> {
  if (roles.length === 0) return [];
  return db.select().from(participants).where(arrayOverlaps(participants.roles, roles)).orderBy(participants.id);
}

export type NewParticipant = Omit<Participant, 'createdAt'>;

/** Inserts a participant; false when the id (or the address) is taken already. */
export async function insertParticipant(db: Db, participant: NewParticipant): Promise<boolean> {
  const rows = await db.insert(participants).values(participant).onConflictDoNothing().returning({ id: participants.id });
  return rows.length > 0;
}

/** Changes a participant's name or roles; undefined when there is no such participant. */
export async function updateParticipant(db: Db, id: string, change: { name?: string; roles?: string[] }): Promise<Participant | undefined> {
  const [row] = await db.update(participants).set(change).where(eq(participants.id, id)).returning();
  return row;
}
