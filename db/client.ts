// Opens the SQL mirror: PostgreSQL when a DATABASE_URL is given, otherwise embedded PGlite
// (in memory, or persisted under a data directory).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import * as schema from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  /** `postgres` or `pglite`, for logs and health checks. */
  kind: 'postgres' | 'pglite';
  migrate(): Promise<void>;
  /**
   * Runs `fn` while holding the PostgreSQL advisory lock `key` (on a connection of its own, so the
   * pool stays free for `fn`): callers in any process run one at a time. `onWait` is called when
   * another holder makes this one wait.
   */
  withAdvisoryLock<T>(key: bigint, fn: () => Promise<T>, onWait?: () => void): Promise<T>;
  close(): Promise<void>;
}

/** The session-lock calls both drivers share: take (waiting when `wait`), release. */
type LockQuery = (text: string, key: string) => Promise<{ rows: Record<string, unknown>[] }>;

async function holdingLock<T>(query: LockQuery, key: bigint, fn: () => Promise<T>, onWait?: () => void): Promise<T> {
  const { rows } = await query('select pg_try_advisory_lock($1) as locked', key.toString());
  if (!rows[0]!.locked) {
    onWait?.();
    await query('select pg_advisory_lock($1)', key.toString());
  }
  try {
    return await fn();
  } finally {
    // A failed unlock is not the caller's failure: the lock ends with its session anyway.
    await query('select pg_advisory_unlock($1)', key.toString()).catch(() => {});
  }
}

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface DatabaseOptions {
  /** A PostgreSQL connection string; when absent, PGlite is used. */
  url?: string;
  /** PGlite data directory; when absent (and no url), PGlite keeps everything in memory. */
  pgliteDir?: string;
  /** Pool size for PostgreSQL. */
  poolSize?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    const pool = new pg.Pool({ connectionString: options.url, max: options.poolSize ?? 20 });
    const db = drizzlePg(pool, { schema }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      migrate: () => migratePg(drizzlePg(pool), { migrationsFolder: MIGRATIONS_DIR }),
      withAdvisoryLock: async (key, fn, onWait) => {
        const client = new pg.Client({ connectionString: options.url });
        // A lost lock connection means the lock is gone: fail the work rather than crash the process.
        let lost: Error | undefined;
        client.on('error', (error) => (lost = error));
        await client.connect();
        try {
          const result = await holdingLock((text, value) => client.query(text, [value]), key, fn, onWait);
          if (lost) throw lost;
          return result;
        } finally {
          await client.end().catch(() => {});
        }
      },
      close: () => pool.end(),
    };
  }
  const client = await PGlite.create(options.pgliteDir);
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    migrate: () => migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_DIR }),
    // PGlite has one connection and one process; the same SQL keeps the code path the same.
    withAdvisoryLock: (key, fn, onWait) => holdingLock((text, value) => client.query(text, [value]), key, fn, onWait),
    close: () => client.close(),
  };
}
