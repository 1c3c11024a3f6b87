// Participant look-ups and the idempotent upsert used to seed them.
import { eq, inArray, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { participants } from './schema.js';

export type Participant = typeof participants.$inferSelect;

export async function findParticipant(db: Db, id: string): Promise<Participant | undefined> {
  const [row] = await db.select().from(participants).where(eq(participants.id, id));
  return row;
}

export async function findParticipantByAddress(db: Db, address: string): Promise<Participant | undefined> {
  const [row] = await db.select().from(participants).where(sql`lower(${participants.address}) = lower(${address})`);
  return row;
}

/** Which of these ids are registered participants (one query). */
export async function existingParticipantIds(db: Db, ids: string[]): Promise<Set<string>> {
  const rows = await db.select({ id: participants.id }).from(participants).where(inArray(participants.id, ids));
  return new Set(rows.map((row) => row.id));
}

export async function listParticipants(db: Db): Promise<Participant[]> {
  return db.select().from(participants).orderBy(participants.id);
}

export async function upsertParticipant(db: Db, participant: Omit<Participant, 'createdAt'>): Promise<void> {
  await db
    .insert(participants)
    .values(participant)
    .onConflictDoUpdate({
      target: participants.id,
      set: { name: participant.name, roles: participant.roles, address: participant.address, keyRef: participant.keyRef },
    });
}
