// The registry of lifecycle definitions: immutable, numbered versions per name.
import { and, desc, eq, sql } from 'drizzle-orm';
import type { CompiledLifecycle } from '../workflows/definition.js';
import type { Db } from './client.js';
import { lifecycleDefinitions } from './schema.js';

export type LifecycleRow = typeof lifecycleDefinitions.$inferSelect;

export interface PublishRequest {
  name: string;
  /** The version the author expects to publish, when they said so. */
  version?: number;
  contentHash: string;
  definition: Record<string, unknown>;
  compile: (version: number) => CompiledLifecycle;
  source: string;
}

export type PublishOutcome =
  | { outcome: 'created'; row: LifecycleRow }
  | { outcome: 'unchanged'; row: LifecycleRow }
  | { outcome: 'version-exists'; row: LifecycleRow }
  | { outcome: 'version-gap'; expected: number };

/**
 * Publishes a definition as the next version of its name. Content identical to the latest version
 * is not a new version; a stated version must be that identical one or the next number. Serialized
 * per name with a transaction-scoped advisory lock, so two publishers cannot take the same number.
 */
export async function publishLifecycle(db: Db, request: PublishRequest): Promise<PublishOutcome> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`lifecycle:${request.name}`}))`);
    const [latest] = await tx
      .select()
      .from(lifecycleDefinitions)
      .where(eq(lifecycleDefinitions.name, request.name))
      .orderBy(desc(lifecycleDefinitions.version))
      .limit(1);
    const next = (latest?.version ?? 0) + 1;
    if (request.version !== undefined && request.version < next) {
      const [stated] = await tx
        .select()
        .from(lifecycleDefinitions)
        .where(and(eq(lifecycleDefinitions.name, request.name), eq(lifecycleDefinitions.version, request.version)));
      if (stated!.contentHash === request.contentHash) return { outcome: 'unchanged', row: stated! };
      return { outcome: 'version-exists', row: stated! };
    }
    if (request.version !== undefined && request.version > next) return { outcome: 'version-gap', expected: next };
    if (latest && latest.contentHash === request.contentHash) return { outcome: 'unchanged', row: latest };
    const [row] = await tx
      .insert(lifecycleDefinitions)
      .values({
        name: request.name,
        version: next,
        contentHash: request.contentHash,
        definition: { ...request.definition, version: next },
        compiled: request.compile(next),
        source: request.source,
      })
      .returning();
    return { outcome: 'created', row: row! };
  });
}

/** Each name with its latest version, in one query. */
export async function listLifecycles(db: Db): Promise<LifecycleRow[]> {
  return db
    .selectDistinctOn([lifecycleDefinitions.name])
    .from(lifecycleDefinitions)
    .orderBy(lifecycleDefinitions.name, desc(lifecycleDefinitions.version));
}

export async function listLifecycleVersions(db: Db, name: string): Promise<LifecycleRow[]> {
  return db.select().from(lifecycleDefinitions).where(eq(lifecycleDefinitions.name, name)).orderBy(lifecycleDefinitions.version);
}

/** One version, or the latest when `version` is undefined. */
export async function getLifecycle(db: Db, name: string, version?: number): Promise<LifecycleRow | undefined> {
  const [row] = await db
    .select()
    .from(lifecycleDefinitions)
    .where(
      version === undefined
        ? eq(lifecycleDefinitions.name, name)
        : and(eq(lifecycleDefinitions.name, name), eq(lifecycleDefinitions.version, version)),
    )
    .orderBy(desc(lifecycleDefinitions.version))
    .limit(1);
  return row;
}
