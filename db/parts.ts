// Part reads and writes of the SQL mirror.
import { asc, eq, inArray } from 'drizzle-orm';
import type { Db } from './client.js';
import { ownership, parts, stepRuns } from './schema.js';
import type { PartStatus } from './schema.js';

export type PartRow = typeof parts.$inferSelect;
export type StepRunRow = typeof stepRuns.$inferSelect;
export type OwnershipRow = typeof ownership.$inferSelect;

export interface NewPart {
  id: string;
  tokenId: string;
  lifecycle: string;
  lifecycleVersion: number;
  ownerId: null;
  metadata: Record<string, unknown>;
  params: Record<string, unknown>;
  createdBy: string | null;
  roles?: Record<string, string>;
  steps: { id: string; kind: string }[];
}

/** Inserts the part and a pending run for each of its steps; a repeat changes nothing. */
export async function insertPart(db: Db, part: NewPart): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .insert(parts)
      .values({
        id: part.id,
        tokenId: part.tokenId,
        lifecycle: part.lifecycle,
        lifecycleVersion: part.lifecycleVersion,
        status: 'active',
        ownerId: null,
        metadata: part.metadata,
        params: part.params,
        createdBy: part.createdBy,
        roles: part.roles ?? {},
      })
      .onConflictDoNothing();
    await tx
      .insert(stepRuns)
      .values(
        part.steps.map((step, position) => ({ partId: part.id, stepId: step.id, position, kind: step.kind, status: 'pending' as const })),
      )
      .onConflictDoNothing();
  });
}

/** The role bindings of each of `ids` that the mirror knows, by part id. */
export async function partRoles(db: Db, ids: string[]): Promise<Map<string, Record<string, string>>> {
  if (ids.length === 0) return new Map();
  const rows = await db.select({ id: parts.id, roles: parts.roles }).from(parts).where(inArray(parts.id, ids));
  return new Map(rows.map((row) => [row.id, row.roles]));
}

/** Sets the current owner without a custody row (the change was made outside Tracewell). */
export async function setPartOwner(db: Db, partId: string, ownerId: string): Promise<void> {
  await db.update(parts).set({ ownerId, updatedAt: new Date() }).where(eq(parts.id, partId));
}

export async function setPartStatus(db: Db, partId: string, status: PartStatus): Promise<void> {
  await db.update(parts).set({ status, updatedAt: new Date() }).where(eq(parts.id, partId));
}

export interface PartRecord {
  part: PartRow;
  steps: StepRunRow[];
  ownership: OwnershipRow[];
}

export async function getPart(db: Db, partId: string): Promise<PartRow | undefined> {
  const [part] = await db.select().from(parts).where(eq(parts.id, partId));
  return part;
}

/** The part with its step runs (in lifecycle order) and custody history (oldest first). */
export async function getPartRecord(db: Db, partId: string): Promise<PartRecord | undefined> {
  const part = await getPart(db, partId);
  if (!part) return undefined;
  const [steps, history] = await Promise.all([
    db.select().from(stepRuns).where(eq(stepRuns.partId, partId)).orderBy(asc(stepRuns.position)),
    db.select().from(ownership).where(eq(ownership.partId, partId)).orderBy(asc(ownership.id)),
  ]);
  return { part, steps, ownership: history };
}
