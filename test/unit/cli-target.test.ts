// Which Tracewell a CLI command talks to (app/cli/target.ts) and the dev stack's DIR/stack.json
// (app/devstack/stack-file.ts): which source wins, and what the errors tell the user to pass; and how
// `tracewell listener status` prints the listener's state.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatMirrorStatus } from '../../app/cli/ledger.js';
import { resolveApiTarget, resolveLedgerTarget } from '../../app/cli/target.js';
import type { TargetEnv, TargetFlags } from '../../app/cli/target.js';
import { readDataDir, removeStackFile, stackFilePath, writeStackFile } from '../../app/devstack/stack-file.js';
import type { DataDirState, StackFile } from '../../app/devstack/stack-file.js';
import type { MirrorStatus } from '../../domain/mirror/mirror-status.js';

const DIR = '/srv/tw';
const stack: StackFile = {
  format: 1,
  pid: 4242,
  startedAt: '2026-12-05T06:00:00.000Z',
  apiUrl: 'http://127.0.0.1:4100',
  temporalAddress: '127.0.0.1:7233',
  temporalUiUrl: 'http://127.0.0.1:8233',
  chainRpcUrl: 'http://127.0.0.1:8545',
  database: 'pglite',
  adminApiKeyFile: 'admin-api-key',
};
const running: DataDirState = { dir: DIR, status: 'running', stack, adminApiKey: 'tw_stack_admin' };
const stopped: DataDirState = { dir: DIR, status: 'stopped', hasPglite: true, adminApiKey: 'tw_stack_admin' };

/** A data directory reader that knows one directory in one state, and records what it was asked. */
function dataDir(state: DataDirState) {
  const asked: string[] = [];
  const read = (dir: string) => {
    asked.push(dir);
    if (dir !== state.dir) throw new Error(`unexpected data dir ${dir}`);
    return state;
  };
  return { read, asked };
}
const noDataDir = (dir: string): DataDirState => {
  throw new Error(`no data dir expected, got ${dir}`);
};

const api = (flags: TargetFlags, env: TargetEnv, read = noDataDir) => resolveApiTarget(flags, env, read, 'tracewell ops');
const ledger = (flags: TargetFlags, env: TargetEnv, read = noDataDir) => resolveLedgerTarget(flags, env, read, 'tracewell verify');

describe('the API an ops command calls', () => {
  it("takes a running dev stack's API and admin key from --data-dir", () => {
    expect(api({ dataDir: DIR }, {}, dataDir(running).read)).toEqual({
      kind: 'api',
      url: 'http://127.0.0.1:4100',
      apiKey: 'tw_stack_admin',
      from: `${DIR}/stack.json`,
    });
  });

  it('reads TRACEWELL_DATA_DIR when no --data-dir is given, and the flag when both are', () => {
    const env = dataDir(running);
    expect(api({}, { TRACEWELL_DATA_DIR: DIR }, env.read).url).toBe('http://127.0.0.1:4100');
    expect(api({ dataDir: DIR }, { TRACEWELL_DATA_DIR: '/elsewhere' }, env.read).url).toBe('http://127.0.0.1:4100');
    expect(env.asked).toEqual([DIR, DIR]);
  });

  it('lets --api and --api-key win over the data directory', () => {
    const flags = { dataDir: DIR, api: 'http://ops.example:3000/', apiKey: 'tw_flag' };
    expect(api(flags, {}, dataDir(running).read)).toEqual({
      kind: 'api',
      url: 'http://ops.example:3000',
      apiKey: 'tw_flag',
      from: '--api',
    });
  });

  it("prefers a running stack's own key to TRACEWELL_API_KEY, but --api-key to both", () => {
    const env = { TRACEWELL_API_URL: 'http://other:3000', TRACEWELL_API_KEY: 'tw_env' };
    expect(api({ dataDir: DIR }, env, dataDir(running).read)).toMatchObject({ url: 'http://127.0.0.1:4100', apiKey: 'tw_stack_admin' });
    expect(api({ dataDir: DIR, apiKey: 'tw_flag' }, env, dataDir(running).read).apiKey).toBe('tw_flag');
  });

  it('without a data directory: TRACEWELL_API_URL, else 127.0.0.1 on API_PORT; empty variables count as unset', () => {
    expect(api({}, { TRACEWELL_API_URL: 'http://ops:3000', TRACEWELL_API_KEY: 'tw_env' })).toMatchObject({
      url: 'http://ops:3000',
      apiKey: 'tw_env',
      from: 'TRACEWELL_API_URL',
    });
    expect(api({ apiKey: 'k' }, { API_PORT: '3100', TRACEWELL_API_URL: '' })).toMatchObject({
      url: 'http://127.0.0.1:3100',
      from: 'API_PORT',
    });
    expect(api({ apiKey: 'k' }, {})).toMatchObject({ url: 'http://127.0.0.1:3000', from: 'the default' });
  });

  it('says which key to pass when there is none', () => {
    expect(() => api({}, {})).toThrow(
      expect.objectContaining({
        code: 'api_key_missing',
        message:
          'tracewell ops: no API key for http://127.0.0.1:3000 (from the default): pass --api-key KEY or set TRACEWELL_API_KEY ' +
          "(an operator's key), or pass --data-dir DIR of a running `tracewell dev --data-dir DIR` (or set TRACEWELL_DATA_DIR) to use its admin key",
      }),
    );
    const noKeyFile: DataDirState = { ...running, stack: { ...stack, adminApiKeyFile: null }, adminApiKey: undefined };
    expect(() => api({ dataDir: DIR }, {}, dataDir(noKeyFile).read)).toThrow(
      `tracewell ops: the dev stack on ${DIR} keeps no admin key there (it was started with TRACEWELL_ADMIN_API_KEY): pass --api-key KEY or set TRACEWELL_API_KEY`,
    );
  });

  it('refuses a data directory whose stack is not running, saying how to start it', () => {
    expect(() => api({ dataDir: DIR }, {}, dataDir(stopped).read)).toThrow(
      `tracewell ops: no \`tracewell dev\` runs on ${DIR} (no ${DIR}/stack.json of a live process): ` +
        `start \`tracewell dev --data-dir ${DIR}\` and run this again, or pass --api URL of a running API`,
    );
  });
});

describe('where verify and listener status read the mirror and the chain', () => {
  it('goes through the API of a running dev stack, whose PGlite no second process may open', () => {
    expect(
      ledger({ dataDir: DIR }, { DATABASE_URL: 'postgres://db/x', CHAIN_RPC_URL: 'http://chain:8545' }, dataDir(running).read),
    ).toEqual({
      kind: 'api',
      url: 'http://127.0.0.1:4100',
      apiKey: 'tw_stack_admin',
      from: `${DIR}/stack.json`,
    });
  });

  it('reads DATABASE_URL and CHAIN_RPC_URL directly when no stack runs, as before', () => {
    const env = { DATABASE_URL: 'postgres://db/x', CHAIN_RPC_URL: 'http://chain:8545' };
    expect(ledger({}, env)).toEqual({
      kind: 'database',
      databaseUrl: 'postgres://db/x',
      rpcUrl: 'http://chain:8545',
      from: 'DATABASE_URL',
    });
    expect(() => ledger({}, { DATABASE_URL: 'postgres://db/x' })).toThrow(
      'tracewell verify: CHAIN_RPC_URL: required with DATABASE_URL (the chain to compare the mirror with)',
    );
  });

  it('asks --api before anything else, and TRACEWELL_API_URL only when nothing else is set', () => {
    const db = { DATABASE_URL: 'postgres://db/x', CHAIN_RPC_URL: 'http://chain:8545', TRACEWELL_API_KEY: 'tw_env' };
    expect(ledger({ api: 'http://ops:3000' }, db)).toMatchObject({ kind: 'api', url: 'http://ops:3000', apiKey: 'tw_env' });
    expect(ledger({}, { ...db, TRACEWELL_API_URL: 'http://ops:3000' })).toMatchObject({ kind: 'database' });
    expect(ledger({}, { TRACEWELL_API_URL: 'http://ops:3000', TRACEWELL_API_KEY: 'tw_env' })).toMatchObject({
      kind: 'api',
      from: 'TRACEWELL_API_URL',
    });
  });

  it("opens a stopped stack's PGlite only with a chain to compare it with", () => {
    expect(ledger({ dataDir: DIR }, { CHAIN_RPC_URL: 'http://geth:8545' }, dataDir(stopped).read)).toEqual({
      kind: 'database',
      pgliteDir: `${DIR}/pglite`,
      rpcUrl: 'http://geth:8545',
      from: DIR,
    });
    expect(() => ledger({ dataDir: DIR }, {}, dataDir(stopped).read)).toThrow(
      `tracewell verify: no \`tracewell dev\` runs on ${DIR} (no ${DIR}/stack.json of a live process): ` +
        `start \`tracewell dev --data-dir ${DIR}\` and run this again, or set CHAIN_RPC_URL to check its database against a chain`,
    );
  });

  it('refuses a directory that holds no dev stack', () => {
    const empty: DataDirState = { dir: DIR, status: 'stopped', hasPglite: false };
    expect(() => ledger({ dataDir: DIR }, { CHAIN_RPC_URL: 'http://geth:8545' }, dataDir(empty).read)).toThrow(
      `tracewell verify: ${DIR} is no dev stack's data directory (no ${DIR}/pglite, no ${DIR}/stack.json): pass the --data-dir \`tracewell dev\` was given`,
    );
  });

  it('says exactly what to pass when nothing says where Tracewell runs', () => {
    expect(() => ledger({}, { CHAIN_RPC_URL: 'http://chain:8545' })).toThrow(
      expect.objectContaining({
        code: 'invalid_configuration',
        message:
          'tracewell verify: say which Tracewell to check: pass --data-dir DIR of a running `tracewell dev --data-dir DIR` ' +
          '(or set TRACEWELL_DATA_DIR), or --api URL with --api-key KEY, or set DATABASE_URL and CHAIN_RPC_URL',
      }),
    );
  });
});

describe('DIR/stack.json', () => {
  const root = mkdtempSync(join(tmpdir(), 'tracewell-stack-file-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const { format: _format, ...fields } = stack;
  /** The id of a process that has ended. */
  const endedPid = () => spawnSync(process.execPath, ['-e', '']).pid!;

  it('is read back as a running stack while its process runs, with the admin key it names', () => {
    const dir = join(root, 'running');
    mkdirSync(dir);
    writeFileSync(join(dir, 'admin-api-key'), 'tw_from_file\n');
    writeStackFile(dir, { ...fields, pid: process.pid });
    expect(JSON.parse(readFileSync(stackFilePath(dir), 'utf8'))).toEqual({ ...stack, pid: process.pid });
    expect(readDataDir(dir)).toEqual({ dir, status: 'running', stack: { ...stack, pid: process.pid }, adminApiKey: 'tw_from_file' });
    // A stack started with TRACEWELL_ADMIN_API_KEY: a key file left by an earlier start is not its key.
    writeStackFile(dir, { ...fields, pid: process.pid, adminApiKeyFile: null });
    expect(readDataDir(dir)).toMatchObject({ status: 'running', adminApiKey: undefined });
  });

  it('counts a file whose process has ended (a killed stack) as stopped, and its database as there', () => {
    const dir = join(root, 'killed');
    mkdirSync(join(dir, 'pglite'), { recursive: true });
    writeStackFile(dir, { ...fields, pid: endedPid() });
    expect(readDataDir(dir)).toEqual({ dir, status: 'stopped', hasPglite: true, adminApiKey: undefined });
  });

  it('is removed on stop only by the process that wrote it', () => {
    const dir = join(root, 'removed');
    mkdirSync(dir);
    writeStackFile(dir, { ...fields, pid: process.pid });
    removeStackFile(dir, endedPid());
    expect(readDataDir(dir).status).toBe('running');
    removeStackFile(dir);
    expect(readDataDir(dir)).toEqual({ dir, status: 'stopped', hasPglite: false, adminApiKey: undefined });
  });

  it('names the file and the field when it is damaged, and the directory when it is missing', () => {
    const dir = join(root, 'damaged');
    mkdirSync(dir);
    writeFileSync(stackFilePath(dir), '{"format":1,"pid":"x"}');
    expect(() => readDataDir(dir)).toThrow(`${dir}/stack.json: pid: Expected number, received string`);
    writeFileSync(stackFilePath(dir), '{');
    expect(() => readDataDir(dir)).toThrow(`${dir}/stack.json: not JSON`);
    expect(() => readDataDir(join(root, 'nowhere'))).toThrow(
      `--data-dir ${root}/nowhere: no such directory (the one \`tracewell dev --data-dir\` was given)`,
    );
  });
});

describe('tracewell listener status', () => {
  const base: MirrorStatus = {
    ledger: { chainId: 31337, address: '0x5FbDB2315678afecb367f032d93F642f64180aa3' },
    cursor: { blockNumber: 40, blockHash: '0xab', updatedAt: '2026-12-05T06:00:00.000Z' },
    head: 42,
    blocksBehind: 2,
    events: 17,
    lastMirroredAt: '2026-12-05T06:00:01.000Z',
    reorgs: [],
    lastError: null,
  };

  it('prints the cursor against the head, the events, the last error and the reorganisations', () => {
    expect(formatMirrorStatus(base)).toBe(
      '0x5FbDB2315678afecb367f032d93F642f64180aa3 on chain 31337: mirrored to block 40 of chain head 42 (2 behind), 17 event(s), last mirrored 2026-12-05T06:00:01.000Z',
    );
    const troubled: MirrorStatus = {
      ...base,
      head: null,
      blocksBehind: null,
      chainError: 'HTTP request failed.',
      lastError: { message: 'fetch failed', at: '2026-12-05T06:01:00.000Z', failures: 3 },
      reorgs: [{ fromBlock: 38, toBlock: 39, removedEvents: 2, detectedAt: '2026-12-05T05:59:00.000Z' }],
    };
    expect(formatMirrorStatus(troubled).split('\n')).toEqual([
      '0x5FbDB2315678afecb367f032d93F642f64180aa3 on chain 31337: mirrored to block 40 of chain head unknown (HTTP request failed.), 17 event(s), last mirrored 2026-12-05T06:00:01.000Z',
      '  last error (3 failed pass(es), at 2026-12-05T06:01:00.000Z): fetch failed',
      '  reorg: blocks 38..39 undone, 2 event(s) removed, at 2026-12-05T05:59:00.000Z',
    ]);
    expect(formatMirrorStatus({ ...base, cursor: null, blocksBehind: null, events: 0, lastMirroredAt: null })).toBe(
      '0x5FbDB2315678afecb367f032d93F642f64180aa3 on chain 31337: nothing mirrored yet; chain head 42, 0 event(s), last mirrored never',
    );
  });
});
