// `--workers N`: Tracewell as operators run it, on PostgreSQL. The bench starts the Temporal dev
// server, anvil and Azurite once, a scratch database (created here, dropped at the end), then
// `tracewell deploy` and, as separate processes, `tracewell listener`, `tracewell api` and N
// `tracewell worker`s, each with its output in a log file (scanned afterwards for nonce conflicts).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Client } from '@temporalio/client';
import { createPublicClient, http } from 'viem';
import type { Hex, PublicClient } from 'viem';
import { freePort } from '../../app/devstack/process.js';
import type { RunningService } from '../../app/devstack/process.js';
import { createScratchDatabase } from '../../app/devstack/scratch-database.js';
import { azuriteConnectionString, DEV_MNEMONIC, startAnvil, startAzurite, startTemporalDevServer } from '../../app/devstack/services.js';
import { ensureTemporalCli } from '../../app/devstack/temporal-cli.js';
import { loadTemporalConfig } from '../../app/config/temporal.js';
import type { TemporalConfig } from '../../app/config/temporal.js';
import { connectTemporalClient } from '../../app/wiring/temporal-worker.js';
import type { Query } from './chain-figures.js';
import { nonceConflicts } from './nonce-conflicts.js';
import { BENCH_ADMIN_API_KEY } from './support.js';

/** One process of the run, for the peak-memory rows. */
export interface BenchProcess {
  role: string;
  pid: number;
}

/** What a benchmark phase drives and measures, whichever way the stack was started. */
export interface BenchTarget {
  description: string;
  apiUrl: string;
  client: Client;
  temporal: TemporalConfig;
  query: Query;
  chain: PublicClient;
  registry: Hex;
  /** The processes whose peak RSS the table shows (the bench process first). */
  processes(): BenchProcess[];
  /** Lines of the worker processes' output that report a nonce conflict (empty in one process). */
  nonceConflictLines(): string[];
  stop(): Promise<void>;
}

/** A `tracewell <command>` process, its output kept in `logFile`. */
interface CliProcess {
  role: string;
  child: ChildProcess;
  logFile: string;
  output(): string;
  stop(): Promise<void>;
}

const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});

function startCli(role: string, args: string[], env: NodeJS.ProcessEnv, logDir: string): CliProcess {
  const logFile = join(logDir, `${role}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/tracewell.ts', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let tail = '';
  const keep = (chunk: Buffer) => {
    tail = (tail + chunk.toString()).slice(-20_000);
    log.write(chunk);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) =>
    child.once('close', () => {
      started.delete(child);
      log.end(() => resolve());
    }),
  );
  return {
    role,
    child,
    logFile,
    output: () => tail,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      } else await exited;
    },
  };
}

/** Waits until the process prints `ready`; fails with its output if it exits first or takes too long. */
async function readyWhen(cli: CliProcess, ready: RegExp, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(cli.output())) {
    if (cli.child.exitCode !== null || Date.now() > deadline) throw new Error(`tracewell ${cli.role} did not start:\n${cli.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs `tracewell deploy` to its end. */
async function deploy(env: NodeJS.ProcessEnv, logDir: string): Promise<void> {
  const cli = startCli('deploy', ['deploy'], env, logDir);
  const code = await new Promise<number | null>((resolve) => cli.child.once('exit', resolve));
  await cli.stop();
  if (code !== 0) throw new Error(`tracewell deploy exited with ${code}:\n${cli.output()}`);
}

export async function startCluster(workers: number, extraEnv: NodeJS.ProcessEnv, log: (line: string) => void): Promise<BenchTarget> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const one of stops.reverse()) await one().catch((error: unknown) => log(`stopping: ${(error as Error).message}`));
    stops.length = 0;
  };
  try {
    const baseUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const database = await createScratchDatabase(baseUrl, 'tracewell_bench');
    stops.push(database.drop);
    // The key store goes with the run; the processes' logs stay for a look afterwards.
    const keysDir = mkdtempSync(join(tmpdir(), 'tracewell-bench-keys-'));
    stops.push(async () => rmSync(keysDir, { recursive: true, force: true }));
    const scratchDir = mkdtempSync(join(tmpdir(), 'tracewell-bench-logs-'));

    const services: RunningService[] = [];
    stops.push(async () => {
      for (const service of services.reverse()) await service.stop();
    });
    const ip = '127.0.0.1';
    const temporalPort = await freePort();
    services.push(
      await startTemporalDevServer({
        cli: await ensureTemporalCli(),
        ip,
        port: temporalPort,
        uiPort: await freePort(),
        headless: true,
        namespace: 'default',
      }),
    );
    const anvilPort = await freePort();
    services.push(await startAnvil({ port: anvilPort }));
    const azuritePort = await freePort();
    services.push(await startAzurite({ port: azuritePort }));
    const rpcUrl = `http://${ip}:${anvilPort}`;
    const apiPort = await freePort();

    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: database.url,
      CHAIN_RPC_URL: rpcUrl,
      CHAIN_MNEMONIC: DEV_MNEMONIC,
      TEMPORAL_ADDRESS: `${ip}:${temporalPort}`,
      AZURE_STORAGE_CONNECTION_STRING: azuriteConnectionString(azuritePort),
      TRACEWELL_KEYSTORE_DIR: keysDir,
      TRACEWELL_KEYSTORE_PASSPHRASE: 'bench',
      TRACEWELL_KEYSTORE_SCRYPT_N: '1024',
      TRACEWELL_ADMIN_API_KEY: BENCH_ADMIN_API_KEY,
      CHAIN_FUND_PARTICIPANTS: 'true',
      TRACEWELL_PARTICIPANTS: 'app/seed/participants.yaml',
      TRACEWELL_LIFECYCLES: 'app/seed/lifecycles',
      API_PORT: String(apiPort),
      TEMPORAL_LOG_LEVEL: 'WARN',
      ...extraEnv,
    };
    log(`deploying to ${database.url} (tracewell deploy)`);
    await deploy(env, scratchDir);

    const processes: CliProcess[] = [];
    stops.push(async () => {
      // The API first, then the workers, the listener last (it mirrors what the workers wrote).
      for (const cli of [...processes].reverse()) await cli.stop();
    });
    const listener = startCli('listener', ['listener'], env, scratchDir);
    processes.push(listener);
    const workerProcesses = Array.from({ length: workers }, (_, i) => startCli(`worker ${i + 1}`, ['worker'], env, scratchDir));
    processes.push(...workerProcesses);
    const api = startCli('api', ['api'], env, scratchDir);
    processes.push(api);
    await Promise.all([
      readyWhen(listener, /ledger listener mirroring/),
      readyWhen(api, /API listening on/),
      ...workerProcesses.map((worker) => readyWhen(worker, /worker polling task queue/)),
    ]);
    log(`started: tracewell listener, api and ${workers} worker process(es); logs in ${scratchDir}`);

    const temporal = loadTemporalConfig(process.env.TRACEWELL_TEMPORAL_CONFIG ?? 'temporal.yaml', env);
    const client = await connectTemporalClient(temporal);
    stops.push(() => client.connection.close());
    const pool = new pg.Pool({ connectionString: database.url, max: 4 });
    stops.push(() => pool.end());
    const query: Query = async (text) => (await pool.query(text)).rows;
    const [deployment] = await query('select part_registry from deployments');
    const chain = createPublicClient({ transport: http(rpcUrl), pollingInterval: 50 }) as PublicClient;

    return {
      description: `PostgreSQL, ${workers} \`tracewell worker\` process(es), \`tracewell api\`, \`tracewell listener\`; the bench process drives and runs the bare worker`,
      apiUrl: `http://${ip}:${apiPort}`,
      client,
      temporal,
      query,
      chain,
      registry: deployment!.part_registry as Hex,
      processes: () => [
        { role: 'bench process', pid: process.pid },
        ...processes.map((cli) => ({ role: `tracewell ${cli.role}`, pid: cli.child.pid! })),
        ...services.map((service) => ({ role: service.name, pid: service.pid })),
      ],
      nonceConflictLines: () =>
        workerProcesses.flatMap((worker) => nonceConflicts(readFileSync(worker.logFile, 'utf8')).map((line) => `${worker.role}: ${line}`)),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
