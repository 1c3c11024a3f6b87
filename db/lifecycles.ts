// The registry of lifecycle definitions: immutable, numbered versions per name, the default version
// new parts start on, and which versions are deprecated.
import { and, desc, eq, sql } from 'drizzle-orm';
import type { CompiledLifecycle } from '../workflows/definition.js';
import type { Db } from './client.js';
import { lifecycleDefaults, lifecycleDefinitions } from './schema.js';

export type LifecycleRow = typeof lifecycleDefinitions.$inferSelect;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface PublishRequest {
  name: string;
  /** The version the author expects to publish, when they said so. */
  version?: number;
  contentHash: string;
  definition: Record<string, unknown>;
  compile: (version: number) => CompiledLifecycle;
  source: string;
  /** Whether a new version becomes the default (default: true). */
  makeDefault?: boolean;
}

export type PublishOutcome =
  | { outcome: 'created'; row: LifecycleRow; defaultVersion: number }
  | { outcome: 'unchanged'; row: LifecycleRow; defaultVersion: number }
  | { outcome: 'version-exists'; row: LifecycleRow }
  | { outcome: 'version-gap'; expected: number };

const ofName = (name: string) => eq(lifecycleDefinitions.name, name);
const ofVersion = (name: string, version: number) => and(ofName(name), eq(lifecycleDefinitions.version, version));

async function setDefault(tx: Tx | Db, name: string, version: number, setBy: string): Promise<void> {
  await tx
    .insert(lifecycleDefaults)
    .values({ name, version, setBy })
    .onConflictDoUpdate({ target: lifecycleDefaults.name, set: { version, setBy, updatedAt: new Date() } });
}

/** The version new parts of `name` start on; undefined when nothing of that name is published. */
export async function defaultVersionOf(db: Tx | Db, name: string): Promise<number | undefined> {
  const [row] = await db.select({ version: lifecycleDefaults.version }).from(lifecycleDefaults).where(eq(lifecycleDefaults.name, name));
  return row?.version;
}

/**
 * Publishes a definition. Its identity is its content: content equal to *any* published version of
 * the name is that version (nothing is written, the default stays), so publishing the same files
 * again never moves "latest" back to older content. New content becomes the next version and, unless
 * `makeDefault` is false, the default. A stated version must be the identical one or the next number.
 * Serialized per name with a transaction-scoped advisory lock, so two publishers cannot take the same
 * number.
 */
export async function publishLifecycle(db: Db, request: PublishRequest): Promise<PublishOutcome> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`lifecycle:${request.name}`}))`);
    const versions = await tx.select().from(lifecycleDefinitions).where(ofName(request.name)).orderBy(desc(lifecycleDefinitions.version));
    const next = (versions[0]?.version ?? 0) + 1;
    if (request.version !== undefined && request.version < next) {
      const stated = versions.find((row) => row.version === request.version)!;
      if (stated.contentHash !== request.contentHash) return { outcome: 'version-exists', row: stated };
    }
    if (request.version !== undefined && request.version > next) return { outcome: 'version-gap', expected: next };
    const same = versions.find((row) => row.contentHash === request.contentHash);
    if (same) return { outcome: 'unchanged', row: same, defaultVersion: (await defaultVersionOf(tx, request.name)) ?? same.version };
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
    const current = await defaultVersionOf(tx, request.name);
    if (current === undefined || request.makeDefault !== false) await setDefault(tx, request.name, next, 'publish');
    return { outcome: 'created', row: row!, defaultVersion: current === undefined || request.makeDefault !== false ? next : current };
  });
}

export interface LifecycleListing {
  /** The default version (what a start without a version runs). */
  row: LifecycleRow;
  /** The highest version number published. */
  latest: number;
}

/** Each name with its default version and its latest version number, in one query. */
export async function listLifecycles(db: Db): Promise<LifecycleListing[]> {
  const latest = db
    .select({ name: lifecycleDefinitions.name, latest: sql<number>`max(${lifecycleDefinitions.version})`.as('latest') })
    .from(lifecycleDefinitions)
    .groupBy(lifecycleDefinitions.name)
    .as('latest');
  const rows = await db
    .select({ row: lifecycleDefinitions, latest: latest.latest })
    .from(lifecycleDefaults)
    .innerJoin(
      lifecycleDefinitions,
      and(eq(lifecycleDefinitions.name, lifecycleDefaults.name), eq(lifecycleDefinitions.version, lifecycleDefaults.version)),
    )
    .innerJoin(latest, eq(latest.name, lifecycleDefaults.name))
    .orderBy(lifecycleDefaults.name);
  return rows.map(({ row, latest }) => ({ row, latest: Number(latest) }));
}

/** The names published, for suggestions. */
export async function lifecycleNames(db: Db): Promise<string[]> {
  const rows = await db.select({ name: lifecycleDefaults.name }).from(lifecycleDefaults).orderBy(lifecycleDefaults.name);
  return rows.map((row) => row.name);
}

export async function listLifecycleVersions(db: Db, name: string): Promise<{ versions: LifecycleRow[]; defaultVersion?: number }> {
  const versions = await db.select().from(lifecycleDefinitions).where(ofName(name)).orderBy(lifecycleDefinitions.version);
  return { versions, defaultVersion: await defaultVersionOf(db, name) };
}

/** One version, or the default one when `version` is undefined. */
export async function getLifecycle(db: Db, name: string, version?: number): Promise<LifecycleRow | undefined> {
  const wanted = version ?? (await defaultVersionOf(db, name));
  if (wanted === undefined) return undefined;
  const [row] = await db.select().from(lifecycleDefinitions).where(ofVersion(name, wanted));
  return row;
}

/** What a change to the default or to deprecation did. */
export type VersionChange = 'done' | 'not-found' | 'deprecated' | 'is-default';

/** Makes `version` the one new parts start on; a deprecated version cannot be. */
export async function setDefaultVersion(db: Db, name: string, version: number, setBy: string): Promise<VersionChange> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`lifecycle:${name}`}))`);
    const [row] = await tx.select().from(lifecycleDefinitions).where(ofVersion(name, version));
    if (!row) return 'not-found';
    if (row.deprecatedAt) return 'deprecated';
    await setDefault(tx, name, version, setBy);
    return 'done';
  });
}

/**
 * Deprecates a version (no new part starts on it; running parts finish on it) or lifts that. The
 * default cannot be deprecated: another version must become the default first.
 */
export async function setDeprecated(db: Db, name: string, version: number, deprecated: boolean): Promise<VersionChange> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`lifecycle:${name}`}))`);
    const [row] = await tx.select().from(lifecycleDefinitions).where(ofVersion(name, version));
    if (!row) return 'not-found';
    if (deprecated && (await defaultVersionOf(tx, name)) === version) return 'is-default';
    if (deprecated !== (row.deprecatedAt !== null)) {
      await tx
        .update(lifecycleDefinitions)
        .set({ deprecatedAt: deprecated ? new Date() : null })
        .where(ofVersion(name, version));
    }
    return 'done';
  });
}
