// `tracewell dev` as a user runs it: every service starts, Ctrl-C leaves nothing running, and with a
// data directory the parts, the chain and the contract deployment survive a restart; and the CLI in a
// second shell finds the running stack from its data directory.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueId } from '../support/env.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tracewell-dev-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface DevRun {
  child: ChildProcess;
  output: () => string;
  apiUrl: string;
  /** The admin API key the banner prints. */
  apiKey: string;
}

/** Starts `tracewell dev` on free ports and waits for its banner. */
async function startDev(dir = dataDir): Promise<DevRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/tracewell.ts', 'dev', '--data-dir', dir], {
    env: {
      ...process.env,
      DATABASE_URL: '', // the embedded PGlite, as a user gets it
      API_PORT: '0',
      CHAIN_PORT: '0',
      AZURITE_PORT: '0',
      TEMPORAL_DEV_PORT: '0',
      TEMPORAL_DEV_UI_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 90_000;
  while (!/API\s+(http:\/\/\S+)/.test(output)) {
    if (child.exitCode !== null) throw new Error(`tracewell dev exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`tracewell dev did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    output: () => output,
    apiUrl: /API\s+(http:\/\/\S+)/.exec(output)![1]!,
    apiKey: /Admin key\s+(tw_\S+)/.exec(output)![1]!,
  };
}

async function interrupt(run: DevRun): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => run.child.once('exit', (code) => resolve(code)));
  run.child.kill('SIGINT');
  return exited;
}

/** Processes whose command line names the data directory (temporal, anvil, azurite). */
function processesUsing(dir: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', dir], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('tracewell dev', () => {
  it('starts the stack, stops cleanly on Ctrl-C, and keeps state across a restart', async () => {
    const first = await startDev();
    expect(first.output()).toMatch(/Temporal UI\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(first.output()).toMatch(/Chain RPC\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(first.output()).toContain('PartRegistry deployed at');
    const address = /PartRegistry deployed at (0x[0-9a-fA-F]{40})/.exec(first.output())![1];
    expect(processesUsing(dataDir).length).toBeGreaterThanOrEqual(3);

    const id = uniqueId();
    const auth = { authorization: `Bearer ${first.apiKey}` };
    expect((await fetch(`${first.apiUrl}/parts/${id}`)).status).toBe(401);
    const created = await fetch(`${first.apiUrl}/parts`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id, lifecycle: 'part-basic' }),
    });
    expect(created.status).toBe(201);
    for (let i = 0; i < 200; i++) {
      const sold = await fetch(`${first.apiUrl}/parts/${id}/updates/sold`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ buyer: 'northwind-logistics' }),
      });
      if (sold.status === 200) break;
      expect(sold.status).toBe(409); // not waiting for the sale yet: still minting
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    let part: any;
    for (let i = 0; i < 200 && part?.status !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      part = await (await fetch(`${first.apiUrl}/parts/${id}`, { headers: auth })).json();
    }
    expect(part.owner.id).toBe('northwind-logistics');

    expect(await interrupt(first)).toBe(0);
    expect(processesUsing(dataDir)).toEqual([]);

    const second = await startDev();
    try {
      expect(second.output()).toContain(`PartRegistry found at ${address}`);
      // The deploy inside `dev` found everything it set up on the first start.
      expect(second.output()).toContain('[tracewell] migrations: current');
      expect(second.output()).toContain('[tracewell] participants: current');
      expect(second.output()).toContain('[tracewell] deployment: current');
      // The admin key was kept in the data directory: the same key works after the restart.
      expect(second.apiKey).toBe(first.apiKey);
      const again: any = await (await fetch(`${second.apiUrl}/parts/${id}`, { headers: auth })).json();
      expect(again).toMatchObject({ status: 'completed', owner: { id: 'northwind-logistics' }, workflow: { status: 'COMPLETED' } });
      expect(again.ownership).toHaveLength(2);
      // The lifecycles/ files were published once: an unchanged file is no new version.
      const versions: any = await (await fetch(`${second.apiUrl}/lifecycles/part-basic`, { headers: auth })).json();
      expect(versions.latest).toBe(1);
    } finally {
      expect(await interrupt(second)).toBe(0);
    }
    expect(processesUsing(dataDir)).toEqual([]);
  }, 240_000);
});

/** The CLI as a user runs it in a second shell: its own process, nothing set but what `env` says. */
function tracewell(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/tracewell.ts', ...args], {
    // Empty means unset: the test run's own settings must not point the CLI anywhere.
    env: {
      ...process.env,
      DATABASE_URL: '',
      CHAIN_RPC_URL: '',
      TRACEWELL_DATA_DIR: '',
      TRACEWELL_API_URL: '',
      TRACEWELL_API_KEY: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('the CLI in a second shell, against `tracewell dev --data-dir`', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tracewell-dev-cli-'));
  let dev: DevRun;
  let auth: Record<string, string>;
  const parked = uniqueId();

  beforeAll(async () => {
    dev = await startDev(dir);
    auth = { authorization: `Bearer ${dev.apiKey}` };
    // A part sold to a retailer parks at `deliver` (part-basic delivers to a distributor): a failure to list.
    const created = await fetch(`${dev.apiUrl}/parts`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: parked, lifecycle: 'part-basic' }),
    });
    expect(created.status).toBe(201);
    for (let i = 0; i < 300; i++) {
      const sold = await fetch(`${dev.apiUrl}/parts/${parked}/updates/sold`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ buyer: 'harbor-retail' }),
      });
      if (sold.status === 200) break;
      expect(sold.status).toBe(409); // still minting
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    let part: any;
    for (let i = 0; i < 300 && part?.status !== 'parked'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      part = await (await fetch(`${dev.apiUrl}/parts/${parked}`, { headers: auth })).json();
    }
    expect(part.status).toBe('parked');
  }, 180_000);

  afterAll(async () => {
    if (dev && dev.child.exitCode === null) await interrupt(dev);
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes DIR/stack.json with the API, Temporal and the chain it printed, and its own pid', () => {
    const stack = JSON.parse(readFileSync(join(dir, 'stack.json'), 'utf8'));
    expect(stack).toMatchObject({
      format: 1,
      pid: dev.child.pid,
      apiUrl: dev.apiUrl,
      temporalAddress: /Temporal\s+(127\.0\.0\.1:\d+)/.exec(dev.output())![1],
      temporalUiUrl: /Temporal UI\s+(http:\/\/\S+)/.exec(dev.output())![1],
      chainRpcUrl: /Chain RPC\s+(http:\/\/\S+)/.exec(dev.output())![1],
      database: 'pglite',
      adminApiKeyFile: 'admin-api-key',
    });
  });

  it('`tracewell verify --data-dir` checks the running stack and reports what GET /ops/verify does', async () => {
    const text = await tracewell(['verify', '--data-dir', dir]);
    expect(text.stderr).toBe('');
    expect(text.code).toBe(0);
    const address = /PartRegistry deployed at (0x[0-9a-fA-F]{40})/.exec(dev.output())![1];
    expect(text.stdout).toMatch(
      new RegExp(`^ok: [1-9]\\d* mirrored event\\(s\\) of ${address} on chain 31337, [1-9]\\d* log\\(s\\) on chain`),
    );

    // TRACEWELL_DATA_DIR works as the flag does; the report is the API's.
    const json = await tracewell(['--json', 'verify'], { TRACEWELL_DATA_DIR: dir });
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    const api: any = await (await fetch(`${dev.apiUrl}/ops/verify`, { headers: auth })).json();
    expect(report).toMatchObject({ ok: true, ledger: api.ledger, drift: [] });
    expect(report.rows).toBeGreaterThan(0);
    expect(report.rows).toBeLessThanOrEqual(api.rows);
  });

  it('`tracewell ops failures --data-dir` lists the parked part with the admin key from DIR', async () => {
    const result = await tracewell(['ops', 'failures', '--data-dir', dir]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const row = result.stdout.split('\n').find((line) => line.startsWith(parked));
    expect(row).toMatch(/part-basic v1\s+deliver \(transfer\)\s+RoleMismatch\s+\d+\s+\S+\s+parked/);
    expect(result.stdout).toMatch(/\d+ of \d+ shown/);
  });

  it('`tracewell listener status --data-dir` shows how far the mirror is', async () => {
    const result = await tracewell(['listener', 'status', '--data-dir', dir]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^0x[0-9a-fA-F]{40} on chain 31337: mirrored to block \d+ of chain head \d+ \(\d+ behind\), [1-9]\d* event\(s\)/,
    );
  });

  it('refuses a second `tracewell dev` on the same data directory', async () => {
    const second = await tracewell(['dev', '--data-dir', dir]);
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`--data-dir ${dir}: \`tracewell dev\` already runs there (pid ${dev.child.pid}, API ${dev.apiUrl})`);
  });

  it('after Ctrl-C removes DIR/stack.json, and the CLI says to start the stack', async () => {
    expect(await interrupt(dev)).toBe(0);
    expect(existsSync(join(dir, 'stack.json'))).toBe(false);
    const verify = await tracewell(['verify', '--data-dir', dir]);
    expect(verify.code).toBe(2);
    expect(verify.stderr).toContain(`tracewell verify: no \`tracewell dev\` runs on ${dir}`);
    expect(verify.stderr).toContain(`start \`tracewell dev --data-dir ${dir}\` and run this again, or set CHAIN_RPC_URL`);
    const ops = await tracewell(['ops', 'failures', '--data-dir', dir]);
    expect(ops.code).toBe(2);
    expect(ops.stderr).toContain(`start \`tracewell dev --data-dir ${dir}\` and run this again, or pass --api URL`);
  });
});
