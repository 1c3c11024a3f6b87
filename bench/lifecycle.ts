// `npm run bench [-- --parts 200 --concurrency 20]`: drives parts through the whole slice over HTTP
// on the embedded stack (part-basic: create → mint → await sale → transfer, each part a workflow with
// real chain writes) and
// prints throughput, lifecycle latency percentiles and peak memory. A benchmark, not a test.
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadAppConfig } from '../config/app.js';
import { loadTemporalConfig } from '../config/temporal.js';
import { stopOnSignal } from '../runtime/signals.js';
import { startStack } from '../runtime/stack.js';
import { BENCH_ADMIN_API_KEY, benchEnvironment, percentile, runBenchmark } from './support.js';

const { values } = parseArgs({
  options: {
    parts: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '20' },
  },
});
const parts = Number(values.parts);
const concurrency = Number(values.concurrency);

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_API_KEY}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  }).catch((error: unknown) => {
    throw new Error(`POST ${url} failed: ${(error as Error).message}`);
  });
  return { status: response.status, body: await response.json() };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const bench = await benchEnvironment();
  const config = loadAppConfig({ ...process.env, API_PORT: '0', CHAIN_PORT: '0', AZURITE_PORT: '0', ...bench.env });
  const temporal = loadTemporalConfig(config.TRACEWELL_TEMPORAL_CONFIG, { ...process.env, TEMPORAL_DEV_PORT: '0', TEMPORAL_DEV_UI_PORT: '0' });
  const startedAt = performance.now();
  const stack = await startStack({ config, temporal, startTemporal: true });
  stopOnSignal(stack.stop);
  const startupMs = performance.now() - startedAt;
  const run = `bench-${Date.now().toString(36)}`;

  try {
    // One part end to end on the part-basic lifecycle: create it and signal its sale at once (the
    // part keeps the signal until its await step takes it), then wait for its workflow's result.
    const lifecycle = async (index: number): Promise<number> => {
      const id = `urn:${run}:part:${index}`;
      const t0 = performance.now();
      const created = await post(`${stack.apiUrl}/parts`, { id, lifecycle: 'part-basic', params: { batch: `b-${index}` } });
      if (created.status !== 201) throw new Error(`create ${id}: ${created.status} ${JSON.stringify(created.body)}`);
      const sold = await post(`${stack.apiUrl}/parts/${id}/signals/sold`, { buyer: 'northwind-logistics' });
      if (sold.status !== 202) throw new Error(`sold ${id}: ${sold.status} ${JSON.stringify(sold.body)}`);
      await stack.client.workflow.getHandle(id).result();
      return performance.now() - t0;
    };

    await lifecycle(-1); // warm-up: workflow cache, connections, JIT
    const latencies: number[] = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: Math.min(concurrency, parts) }, async () => {
        while (next < parts) latencies.push(await lifecycle(next++));
      }),
    );
    const elapsedS = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);

    const database = stack.core.database.kind;
    console.log(
      [
        `Tracewell lifecycle benchmark: ${parts} parts, concurrency ${concurrency}, SQL ${database}, anvil automine`,
        `  stack start-up      ${(startupMs / 1000).toFixed(1)} s`,
        `  throughput          ${(parts / elapsedS).toFixed(1)} parts/s (${elapsedS.toFixed(1)} s; 2 chain writes per part)`,
        `  lifecycle latency   p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${latencies.at(-1)!.toFixed(0)} ms`,
        `  peak RSS            ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (API + worker + SQL process)`,
      ].join('\n'),
    );
  } catch (error) {
    if (process.env.BENCH_KEEP_ON_FAILURE) {
      console.error(`${(error as Error).message}\nstack kept for inspection: temporal at ${stack.temporalAddress}`);
      await new Promise((resolve) => setTimeout(resolve, 600_000));
    }
    throw error;
  } finally {
    await stack.stop();
    await bench.cleanup();
  }
}

runBenchmark(main);
