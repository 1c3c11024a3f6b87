// `tracewell deploy` as operators run it, as separate processes on one PostgreSQL database and the
// run's chain: three started at once do each thing once (counted in rows, chain transactions and
// role grants), a later one finds everything current, and worker, API and listener processes refuse
// to start on a database that is not deployed, naming `tracewell deploy`.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { createPublicClient, getAddress, http, parseAbiItem } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createScratchDatabase } from '../../app/devstack/scratch-database.js';
import type { ScratchDatabase } from '../../app/devstack/scratch-database.js';
import { DEV_MNEMONIC } from '../../app/devstack/services.js';
import { loadParticipantsFile } from '../../app/deploy/seed-participants.js';
import { issueApiKey } from '../../db/api-keys.js';
import { MIGRATIONS_DIR } from '../../db/client.js';
import type { Db } from '../../db/client.js';
import { knownMigrations } from '../../db/migration-status.js';
import { CERTIFIER_ROLE, REGISTRAR_ROLE } from '../../domain/chain/part-registry.js';
import { lifecycleFilesIn, readLifecycleFile } from '../../domain/lifecycles/load.js';
import { TEST_ADMIN_API_KEY } from '../support/env.js';

const PARTICIPANTS = 'app/seed/participants.yaml';
const LIFECYCLES = 'app/seed/lifecycles';

interface CliRun {
  code: number | null;
  output: string;
}

/** Starts `tracewell <args>` with `env` on top of a clean environment for this run's services. */
function start(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/tracewell.ts', ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CHAIN_RPC_URL: inject('rpcUrl'),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      CHAIN_MNEMONIC: DEV_MNEMONIC,
      AZURE_STORAGE_CONNECTION_STRING: inject('blobConnectionString'),
      TRACEWELL_KEYSTORE_PASSPHRASE: 'test-keystore-passphrase',
      TRACEWELL_KEYSTORE_SCRYPT_N: '1024',
      TRACEWELL_ADMIN_API_KEY: TEST_ADMIN_API_KEY,
      CHAIN_FUND_PARTICIPANTS: 'true',
      TRACEWELL_PARTICIPANTS: PARTICIPANTS,
      TRACEWELL_LIFECYCLES: LIFECYCLES,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
  return { child, output: () => output, exited };
}

/** Runs `tracewell <args>` to its end. */
function tracewell(args: string[], env: Record<string, string>): Promise<CliRun> {
  return start(args, env).exited;
}

/** Starts a long-running `tracewell <args>`, waits until it prints `ready`, then stops it with Ctrl-C. */
async function startsAndStops(args: string[], env: Record<string, string>, ready: RegExp): Promise<CliRun> {
  const run = start(args, env);
  const deadline = Date.now() + 60_000;
  while (!ready.test(run.output())) {
    if (run.child.exitCode !== null || Date.now() > deadline)
      throw new Error(`tracewell ${args.join(' ')} did not start:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  run.child.kill('SIGINT');
  return run.exited;
}

async function query<T = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as T[];
  } finally {
    await client.end();
  }
}

const count = async (url: string, table: string) => (await query<{ n: number }>(url, `select count(*)::int as n from ${table}`))[0]!.n;

const chain = createPublicClient({ transport: http(inject('rpcUrl')) });
const admin = mnemonicToAccount(DEV_MNEMONIC).address;
const roleGranted = parseAbiItem('event RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)');

/** What one deploy leaves behind in SQL, counted. */
async function footprint(url: string) {
  return {
    migrations: await count(url, 'drizzle.__drizzle_migrations'),
    deployments: await count(url, 'deployments'),
    contractDeployments: await count(url, 'contract_deployments'),
    gatewayContracts: await count(url, 'gateway_contracts'),
    participants: await count(url, 'participants'),
    apiKeys: await count(url, 'api_keys'),
    lifecycleVersions: await count(url, 'lifecycle_definitions'),
    chainTxs: await count(url, 'chain_txs'),
  };
}

const scratches: ScratchDatabase[] = [];
const dirs: string[] = [];
async function scratchDatabase(): Promise<string> {
  const scratch = await createScratchDatabase(inject('databaseUrl'), 'tracewell_deploy');
  scratches.push(scratch);
  return scratch.url;
}
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const scratch of scratches) await scratch.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Separate processes need one database they all reach: PostgreSQL (CI uses it whenever it runs).
describe.skipIf(!inject('databaseUrl'))('tracewell deploy', () => {
  let url: string;
  let env: Record<string, string>;
  let registry: `0x${string}`;
  let afterFirst: Awaited<ReturnType<typeof footprint>>;

  beforeAll(async () => {
    url = await scratchDatabase();
    // A container and key store of this file's own, so "created" is this test's doing.
    env = {
      DATABASE_URL: url,
      TRACEWELL_KEYSTORE_DIR: tempDir('tracewell-deploy-keys-'),
      DOCUMENTS_CONTAINER: `deploy-test-${process.pid}`,
    };
  });

  it('started three times at once, does each thing once', async () => {
    const nonceBefore = await chain.getTransactionCount({ address: admin });
    const runs = await Promise.all([1, 2, 3].map(() => tracewell(['deploy'], env)));
    for (const run of runs) expect(run.code, run.output).toBe(0);

    const seeds = loadParticipantsFile(PARTICIPANTS);
    const certifiers = seeds.filter((seed) => seed.roles.includes('certifier')).length;
    afterFirst = await footprint(url);
    expect(afterFirst).toEqual({
      migrations: knownMigrations().length,
      deployments: 1,
      contractDeployments: 1,
      gatewayContracts: 1,
      participants: seeds.length + 1, // and `admin`
      apiKeys: 1,
      lifecycleVersions: lifecycleFilesIn(LIFECYCLES).length,
      // Each seeded participant: REGISTRAR_ROLE and gas money; certifiers also CERTIFIER_ROLE.
      chainTxs: seeds.length * 2 + certifiers,
    });

    // The chain saw one contract creation and the recorded writes, nothing more from the admin key.
    expect(await chain.getTransactionCount({ address: admin })).toBe(nonceBefore + 1 + afterFirst.chainTxs);
    const [deployment] = await query<{ part_registry: `0x${string}` }>(url, 'select part_registry from deployments');
    registry = deployment!.part_registry;
    const addresses = new Set(
      (await query<{ address: string }>(url, `select address from participants where id <> 'admin'`)).map((row) => getAddress(row.address)),
    );
    const grants = (await chain.getLogs({ address: registry, event: roleGranted, fromBlock: 0n })).filter((log) =>
      addresses.has(getAddress(log.args.account!)),
    );
    expect(grants.filter((log) => log.args.role === REGISTRAR_ROLE)).toHaveLength(seeds.length);
    expect(grants.filter((log) => log.args.role === CERTIFIER_ROLE)).toHaveLength(certifiers);
    expect(new Set(grants.map((log) => `${log.args.role}:${log.args.account}`)).size).toBe(grants.length);

    // One deployed; the others waited for it and found its contract.
    const outputs = runs.map((run) => run.output);
    expect(outputs.filter((output) => output.includes(`PartRegistry deployed at ${registry}`))).toHaveLength(1);
    expect(outputs.filter((output) => output.includes(`PartRegistry found at ${registry}`))).toHaveLength(2);
  }, 120_000);

  it('run again, finds everything current and changes nothing', async () => {
    const nonceBefore = await chain.getTransactionCount({ address: admin });
    const again = await tracewell(['deploy'], env);
    expect(again.code, again.output).toBe(0);
    expect(await footprint(url)).toEqual(afterFirst);
    expect(await chain.getTransactionCount({ address: admin })).toBe(nonceBefore);
    const lines = again.output.trim().split('\n');
    expect(lines).toEqual([
      `[tracewell] migrations: current (${knownMigrations().length}, last ${knownMigrations().at(-1)!.tag})`,
      `[tracewell] PartRegistry found at ${registry} (chain 31337)`,
      '[tracewell] gateway: PartRegistry already registered',
      `[tracewell] documents: blob container ${env.DOCUMENTS_CONTAINER} exists`,
      '[tracewell] temporal: search attributes current (namespace default)',
      `[tracewell] participants: current (${loadParticipantsFile(PARTICIPANTS).length})`,
      '[tracewell] on-chain roles: current',
      '[tracewell] admin: current',
      `[tracewell] lifecycles: current (${lifecycleFilesIn(LIFECYCLES)
        .map((file) => `${readLifecycleFile(file).name} v1`)
        .join(', ')})`,
      expect.stringMatching(/^\[tracewell\] deployment: current \(chain 31337, tracewell \d+\.\d+\.\d+\)$/),
    ]);
  }, 60_000);

  it('is all that api and listener processes need to start', async () => {
    const before = await footprint(url);
    const [api, listener] = await Promise.all([
      startsAndStops(['api'], { ...env, API_PORT: '0' }, /API listening on http:/),
      startsAndStops(['listener'], env, /ledger listener mirroring/),
    ]);
    expect(api.code, api.output).toBe(0);
    expect(listener.code, listener.output).toBe(0);
    expect(listener.output).toContain(`ledger listener mirroring ${registry} on chain 31337`);
    // They set nothing up themselves.
    expect(api.output).not.toMatch(/PartRegistry|migrations:|participants:/);
    expect((await footprint(url)).participants).toBe(before.participants);
  }, 90_000);

  it('never brings a revoked bootstrap admin key back', async () => {
    // A second admin key, straight into SQL as an admin with database access would.
    const pool = new pg.Pool({ connectionString: url });
    const second = await issueApiKey(drizzle(pool) as unknown as Db, 'admin', { label: 'second admin key' }).finally(() => pool.end());

    // The second key revokes the bootstrap key through the API.
    await withApi(async (api) => {
      const keys = await call(api, second.key, 'GET', '/participants/admin/api-keys');
      const bootstrap = (keys.body as { apiKeys: { id: number; label: string }[] }).apiKeys.find((k) => k.label.startsWith('bootstrap'));
      expect((await call(api, second.key, 'DELETE', `/participants/admin/api-keys/${bootstrap!.id}`)).status).toBe(204);
      expect((await call(api, TEST_ADMIN_API_KEY, 'GET', '/participants')).status).toBe(401);
    });

    const again = await tracewell(['deploy'], env);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toContain('[tracewell] admin: TRACEWELL_ADMIN_API_KEY names a revoked key; it stays revoked');

    // A restarted API still refuses it, and the second key still works.
    await withApi(async (api) => {
      expect((await call(api, TEST_ADMIN_API_KEY, 'GET', '/participants')).status).toBe(401);
      expect((await call(api, second.key, 'GET', '/participants')).status).toBe(200);
    });

    // A key nobody knows is not made an admin key while an admin holds a working one.
    const stranger = await tracewell(['deploy'], { ...env, TRACEWELL_ADMIN_API_KEY: 'tw_not-a-known-key-0123456789' });
    expect(stranger.code, stranger.output).toBe(0);
    expect(stranger.output).toContain('TRACEWELL_ADMIN_API_KEY is not a known key and an admin already holds a working one; not issued');
    await withApi(async (api) => expect((await call(api, 'tw_not-a-known-key-0123456789', 'GET', '/participants')).status).toBe(401));
  }, 300_000);

  /** Runs `tracewell api` on this database while `use` runs, with its URL. */
  async function withApi(use: (api: string) => Promise<void>): Promise<void> {
    const run = start(['api'], { ...env, API_PORT: '0' });
    try {
      const deadline = Date.now() + 60_000;
      let address: RegExpExecArray | null;
      while (!(address = /API listening on (http:\/\/\S+)/.exec(run.output()))) {
        if (run.child.exitCode !== null || Date.now() > deadline) throw new Error(`tracewell api did not start:\n${run.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await use(address[1]!.replace(/\/$/, ''));
    } finally {
      run.child.kill('SIGINT');
      await run.exited;
    }
  }
});

async function call(api: string, key: string, method: string, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

describe.skipIf(!inject('databaseUrl'))('worker, api and listener before `tracewell deploy`', () => {
  it('refuse on a database migrated one step short, naming the missing migration and `tracewell deploy`', async () => {
    const url = await scratchDatabase();
    // This build's migrations but the last: the database of the release before it.
    const older = tempDir('tracewell-migrations-');
    cpSync(MIGRATIONS_DIR, older, { recursive: true });
    const journalFile = join(older, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalFile, 'utf8'));
    const missing = journal.entries.pop().tag;
    writeFileSync(journalFile, JSON.stringify(journal));
    const pool = new pg.Pool({ connectionString: url });
    await migrate(drizzle(pool), { migrationsFolder: older });
    await pool.end();

    const worker = await tracewell(['worker'], { DATABASE_URL: url, TRACEWELL_KEYSTORE_DIR: tempDir('tracewell-keys-') });
    // not_deployed is a 409 in the error catalogue: the CLI exits 4 (a conflict with the current state).
    expect(worker.code, worker.output).toBe(4);
    const known = knownMigrations().length;
    expect(worker.output).toContain(`tracewell: not_deployed: database schema: 1 of ${known} migrations not applied (${missing})`);
    expect(worker.output).toContain('Run `tracewell deploy`');
    // It checked and changed nothing: the schema is still one short.
    expect(await count(url, 'drizzle.__drizzle_migrations')).toBe(known - 1);
  }, 60_000);

  it('refuse on a migrated database that no deploy has set up', async () => {
    const url = await scratchDatabase();
    const migrated = await tracewell(['migrate'], { DATABASE_URL: url });
    expect(migrated.code, migrated.output).toBe(0);
    expect(migrated.output).toContain('[tracewell] migrations: applied 0000_init');

    const env = { DATABASE_URL: url, TRACEWELL_KEYSTORE_DIR: tempDir('tracewell-keys-') };
    const [api, listener] = await Promise.all([tracewell(['api'], env), tracewell(['listener'], env)]);
    for (const run of [api, listener]) {
      expect(run.code, run.output).toBe(4);
      expect(run.output).toContain('tracewell: not_deployed: no deployment recorded for chain 31337');
      expect(run.output).toContain('Run `tracewell deploy`');
    }
    // Nothing was set up on the way: no participants, no contract.
    expect(await count(url, 'participants')).toBe(0);
    expect(await count(url, 'contract_deployments')).toBe(0);
  }, 60_000);
});
