// Which of db/migrations a database has applied, read the way drizzle's migrator decides it: a
// migration is applied when the newest row of drizzle.__drizzle_migrations is not older than it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import { MIGRATIONS_DIR } from './client.js';
import type { Db } from './client.js';

export interface Migration {
  tag: string;
  /** The journal's `when`, which drizzle stores as `created_at`. */
  when: number;
}

export interface MigrationStatus {
  /** Every migration this build knows, oldest first. */
  known: Migration[];
  /** Known migrations the database has not applied. */
  pending: Migration[];
  /** How many applied migrations are newer than any this build knows (a newer release migrated). */
  newer: number;
}

export function knownMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const journal = JSON.parse(readFileSync(join(dir, 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string; when: number }[] };
  return journal.entries.map(({ tag, when }) => ({ tag, when }));
}

/** The one row of a one-row query (both drivers answer with `rows`). */
async function one<T>(db: Db, query: SQL): Promise<T | undefined> {
  return ((await db.execute(query)) as unknown as { rows: T[] }).rows[0];
}

export async function migrationStatus(db: Db, dir = MIGRATIONS_DIR): Promise<MigrationStatus> {
  const known = knownMigrations(dir);
  const table = await one<{ name: string | null }>(db, sql`select to_regclass('drizzle.__drizzle_migrations')::text as name`);
  if (!table?.name) return { known, pending: known, newer: 0 };
  const lastKnown = known.at(-1)?.when ?? -1;
  const applied = await one<{ upTo: string | null; newer: number }>(
    db,
    sql`select max(created_at)::text as "upTo", (count(*) filter (where created_at > ${lastKnown}))::int as newer from drizzle.__drizzle_migrations`,
  );
  const upTo = applied?.upTo ? Number(applied.upTo) : -1;
  return { known, pending: known.filter((migration) => migration.when > upTo), newer: applied?.newer ?? 0 };
}
