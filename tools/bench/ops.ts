// `npm run bench:ops [-- --parts 200]`: a chain outage parks every part at its mint step (an RPC
// gate in front of anvil returns 503), then ops page through /ops/failures and retry them all with
// one bulk request once the chain is back. Prints how fast the list pages, how fast the bulk retry
// takes decisions, and how long until every part is past the failed step. A benchmark, not a test.
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { and, eq, like } from 'drizzle-orm';
import { loadAppConfig } from '../../app/config/app-config.js';
import { loadTemporalConfig } from '../../app/config/temporal.js';
import { stepRuns } from '../../db/schema.js';
import { StepRejection } from '../../domain/errors/step-rejections.js';
import { freePort } from '../../app/devstack/process.js';
import { startAnvil } from '../../app/devstack/services.js';
import { stopOnSignal } from '../../app/wiring/shutdown.js';
import { startStack } from '../../app/wiring/stack.js';
import { startRpcGate } from '../faults/rpc-gate.js';
import { BENCH_ADMIN_API_KEY, benchEnvironment, percentile, runBenchmark } from './support.js';

const { values } = parseArgs({ options: { parts: { type: 'string', default: '200' } } });
const parts = Number(values.parts);

async function call(method: string, url: string, body?: unknown): Promise<any> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_API_KEY}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

async function until(what: string, done: () => Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

type Stack = Awaited<ReturnType<typeof startStack>>;

/** The embedded stack on the RPC gate, with chain retries cut short. */
async function startGatedStack(rpcUrl: string, benchEnv: NodeJS.ProcessEnv): Promise<Stack> {
  const config = loadAppConfig({
    ...process.env,
    API_PORT: '0',
    AZURITE_PORT: '0',
    CHAIN_RPC_URL: rpcUrl,
    CHAIN_MNEMONIC: 'test test test test test test test test test test test junk',
    ...benchEnv,
  });
  const base = loadTemporalConfig(config.TRACEWELL_TEMPORAL_CONFIG, { ...process.env, TEMPORAL_DEV_PORT: '0', TEMPORAL_DEV_UI_PORT: '0' });
  // Three quick attempts per step: the outage, not the retry policy, is what is measured.
  const temporal = {
    ...base,
    activities: {
      ...base.activities,
      chain: {
        ...base.activities.chain,
        retry: { ...base.activities.chain.retry, initialInterval: 100, maximumInterval: 200, maximumAttempts: 3 },
      },
    },
  };
  return startStack({ config, temporal, startTemporal: true });
}

/** Pages through the parked failures 50 at a time; the sorted page times and how many were listed. */
async function pageFailures(apiUrl: string): Promise<{ pageMs: number[]; listed: number }> {
  const pageMs: number[] = [];
  let cursor: string | null = null;
  let listed = 0;
  do {
    const p0 = performance.now();
    const page: any = await call(
      'GET',
      `${apiUrl}/ops/failures?lifecycle=part-basic&code=${StepRejection.ChainUnavailable}&limit=50${cursor ? `&cursor=${cursor}` : ''}`,
    );
    pageMs.push(performance.now() - p0);
    listed += page.failures.length;
    cursor = page.nextCursor;
  } while (cursor);
  pageMs.sort((a, b) => a - b);
  return { pageMs, listed };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const anvilPort = await freePort();
  const anvil = await startAnvil({ port: anvilPort });
  const gate = await startRpcGate(`http://127.0.0.1:${anvilPort}`);
  const bench = await benchEnvironment();
  const stack = await startGatedStack(gate.url, bench.env);
  stopOnSignal(async () => {
    await stack.stop();
    await gate.close();
    await anvil.stop();
  });
  const run = `bench-ops-${Date.now().toString(36)}`;
  const db = stack.core.database.db;
  const countAt = async (stepId: string, status: 'failed' | 'running') =>
    (
      await db
        .select({ partId: stepRuns.partId })
        .from(stepRuns)
        .where(and(like(stepRuns.partId, `urn:${run}:%`), eq(stepRuns.stepId, stepId), eq(stepRuns.status, status)))
    ).length;

  try {
    gate.mode = 'down';
    const t0 = performance.now();
    for (let start = 0; start < parts; start += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, parts - start) }, (_, i) =>
          call('POST', `${stack.apiUrl}/parts`, { id: `urn:${run}:${start + i}`, lifecycle: 'part-basic', params: { batch: run } }),
        ),
      );
    }
    await until('every part to park', async () => (await countAt('mint', 'failed')) === parts);
    const parkS = (performance.now() - t0) / 1000;

    const { pageMs, listed } = await pageFailures(stack.apiUrl);

    gate.mode = 'open';
    const r0 = performance.now();
    const summary = await call('POST', `${stack.apiUrl}/ops/failures/retry`, {
      lifecycle: 'part-basic',
      code: StepRejection.ChainUnavailable,
      reason: 'bench: chain back',
    });
    const retryS = (performance.now() - r0) / 1000;
    await until('every part to pass its mint step', async () => (await countAt('sold', 'running')) === parts);
    const recoverS = (performance.now() - r0) / 1000;

    console.log(
      [
        `Tracewell ops benchmark: ${parts} parts parked by a chain outage, SQL ${stack.core.database.kind}`,
        `  parked              ${parts} parts in ${parkS.toFixed(1)} s (3 attempts each)`,
        `  /ops/failures       ${listed} listed in ${pageMs.length} pages of 50: p50 ${percentile(pageMs, 50).toFixed(0)} ms, p99 ${percentile(pageMs, 99).toFixed(0)} ms`,
        `  bulk retry          ${summary.retried}/${summary.matched} retried in ${retryS.toFixed(2)} s (${(summary.retried / retryS).toFixed(0)} decisions/s)`,
        `  recovery            every part past its failed step ${recoverS.toFixed(1)} s after the retry request`,
        `  peak RSS            ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (API + worker + SQL process)`,
      ].join('\n'),
    );
  } finally {
    await stack.stop();
    await bench.cleanup();
    await gate.close();
    await anvil.stop();
  }
}

runBenchmark(main);
