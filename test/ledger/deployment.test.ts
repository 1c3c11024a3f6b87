// The deployment belongs to `tracewell deploy` (or `dev`): worker and API processes never deploy a
// contract, migrate or seed; they check that the schema and the deployment are current and refuse,
// naming the fix, when they are not. On a PGlite data directory of each test's own, so this runs on
// either database (test/e2e/deploy-command.test.ts runs the same checks as processes on PostgreSQL).
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { DeploymentNotCurrent } from '../../app/deploy/readiness.js';
import { openCore } from '../../app/wiring/core.js';
import { MIGRATIONS_DIR, openDatabase } from '../../db/client.js';
import { knownMigrations } from '../../db/migration-status.js';
import { testAppConfig } from '../support/env.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** An embedded database of the test's own (kept in `dataDir`), which no deploy has touched. */
const configIn = (dataDir: string, overrides: NodeJS.ProcessEnv = {}) =>
  testAppConfig({ DATABASE_URL: '', TRACEWELL_DATA_DIR: dataDir, ...overrides });
const open = (config: ReturnType<typeof testAppConfig>, deploy = false) =>
  openCore({ config, rpcUrl: inject('rpcUrl'), dev: false, deploy });

describe('a worker or API process', () => {
  it('refuses a database that lacks the last migration, naming it and `tracewell deploy`', async () => {
    const dataDir = tempDir('tracewell-deployment-');
    const older = tempDir('tracewell-migrations-');
    cpSync(MIGRATIONS_DIR, older, { recursive: true });
    const journalFile = join(older, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalFile, 'utf8'));
    const missing = journal.entries.pop().tag;
    writeFileSync(journalFile, JSON.stringify(journal));
    const client = await PGlite.create(join(dataDir, 'pglite'));
    await migrate(drizzle(client), { migrationsFolder: older });
    await client.close();

    const opening = open(configIn(dataDir));
    await expect(opening).rejects.toBeInstanceOf(DeploymentNotCurrent);
    await expect(opening).rejects.toThrow(
      `database schema: 1 of ${knownMigrations().length} migrations not applied (${missing})\nRun \`tracewell deploy\``,
    );
  });

  it('refuses a migrated database that no deploy set up, naming `tracewell deploy`', async () => {
    const dataDir = tempDir('tracewell-deployment-');
    const database = await openDatabase({ pgliteDir: join(dataDir, 'pglite') });
    await database.migrate();
    await database.close();
    const opening = open(configIn(dataDir));
    await expect(opening).rejects.toBeInstanceOf(DeploymentNotCurrent);
    await expect(opening).rejects.toThrow(/^no deployment recorded for chain 31337\nRun `tracewell deploy`/);
  });

  it('uses what `deploy` deployed, with or without its address given, and refuses a deployment that no longer matches', async () => {
    const dataDir = tempDir('tracewell-deployment-');
    const deployer = await open(configIn(dataDir), true);
    const address = deployer.registry.address;
    await deployer.close();

    for (const overrides of [{}, { PART_REGISTRY_ADDRESS: address }]) {
      const worker = await open(configIn(dataDir, overrides));
      expect(worker.registry.address).toBe(address);
      await worker.close();
    }

    // An edited participants file and another contract: every difference is named, and the fix.
    const participants = join(tempDir('tracewell-seed-'), 'participants.yaml');
    writeFileSync(participants, `${readFileSync('app/seed/participants.yaml', 'utf8')}  - id: new-partner\n    name: New Partner\n`);
    const stale = open(
      configIn(dataDir, { TRACEWELL_PARTICIPANTS: participants, PART_REGISTRY_ADDRESS: '0x000000000000000000000000000000000000dEaD' }),
    );
    await expect(stale).rejects.toBeInstanceOf(DeploymentNotCurrent);
    await expect(stale).rejects.toThrow(
      [
        '',
        `  - PART_REGISTRY_ADDRESS is 0x000000000000000000000000000000000000dEaD, but the deployment on chain 31337 uses ${address}`,
        `  - participants: ${participants} changed since the last deploy`,
        'Run `tracewell deploy`',
      ].join('\n'),
    );
  });
});

describe('deploy', () => {
  it('checks that a configured address holds a contract', async () => {
    const config = configIn(tempDir('tracewell-deployment-'), { PART_REGISTRY_ADDRESS: '0x000000000000000000000000000000000000dEaD' });
    await expect(open(config, true)).rejects.toThrow(
      'PART_REGISTRY_ADDRESS: no contract at 0x000000000000000000000000000000000000dEaD on chain 31337',
    );
  });
});
