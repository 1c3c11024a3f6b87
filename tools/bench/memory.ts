// `npm run bench:memory [-- --parts 2000 --concurrency 50 --reads 1000]`: starts N part-basic parts
// over HTTP on the embedded stack and leaves them in flight (minted, waiting at their `sold` await
// step), then prints this process's memory (it runs the API, the worker, the listener and, without
// DATABASE_URL, the embedded SQL) split into RSS, JS heap, external and array buffers, while the
// parts start, once they wait, and after a rest. Then `--reads` concurrent GET /parts/{id} over the
// waiting parts, with p50/p99. A benchmark, not a test.
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { and, eq, like, sql } from 'drizzle-orm';
import { getPartRecord } from '../../db/parts.js';
import { stepRuns } from '../../db/schema.js';
import type { Stack } from '../../app/wiring/stack.js';
import { PART_RUN_STATE_QUERY } from '../../workflows/part-types.js';
import { stopOnSignal } from '../../app/wiring/shutdown.js';
import { freePortStackConfig, startStack } from '../../app/wiring/stack.js';
import { BENCH_ADMIN_API_KEY, benchEnvironment, percentile, runBenchmark } from './support.js';

const { values } = parseArgs({
  options: {
    parts: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '50' },
    reads: { type: 'string', default: '1000' },
  },
});
const parts = Number(values.parts);
const concurrency = Number(values.concurrency);
const reads = Number(values.reads);
for (const [name, value] of Object.entries({ parts, concurrency, reads }))
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name}: a whole number of at least 1`);

const auth = { authorization: `Bearer ${BENCH_ADMIN_API_KEY}` };
const MiB = 1024 * 1024;

/** The process's memory now, and the peak RSS so far, in MiB. */
function memory() {
  const m = process.memoryUsage();
  return {
    rss: m.rss / MiB,
    heapUsed: m.heapUsed / MiB,
    heapTotal: m.heapTotal / MiB,
    external: m.external / MiB,
    arrayBuffers: m.arrayBuffers / MiB,
    peakRss: process.resourceUsage().maxRSS / 1024,
  };
}

/** `n` GET /parts/{id} at once: p50, p99 and max latency, and any failures. */
async function concurrentReads(apiUrl: string, n: number, pick: (index: number) => string): Promise<string> {
  const times: number[] = [];
  const failures = new Map<string, number>();
  const r0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, async (_, index) => {
      const t = performance.now();
      try {
        const response = await fetch(`${apiUrl}/parts/${pick(index)}`, { headers: auth });
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`status ${response.status}`);
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
        failures.set(cause, (failures.get(cause) ?? 0) + 1);
      }
      times.push(performance.now() - t);
    }),
  );
  const wallS = (performance.now() - r0) / 1000;
  times.sort((a, b) => a - b);
  const failed = failures.size ? `, failed: ${JSON.stringify(Object.fromEntries(failures))}` : '';
  return `p50 ${percentile(times, 50).toFixed(0)} ms, p99 ${percentile(times, 99).toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms (${wallS.toFixed(1)} s wall)${failed}`;
}

/**
 * Starts the part; a connection the server closed as it was reused (ECONNRESET under load) is tried
 * again, and a retry that finds the part started (409) counts as started.
 */
async function createPart(apiUrl: string, id: string, run: string, attempt = 1): Promise<void> {
  try {
    const response = await fetch(`${apiUrl}/parts`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id, lifecycle: 'part-basic', params: { batch: run } }),
    });
    if (response.status === 201 || (attempt > 1 && response.status === 409)) return void (await response.arrayBuffer());
    throw new Error(`create ${id}: ${response.status} ${await response.text()}`);
  } catch (error) {
    if (attempt < 5 && (error as { cause?: { code?: string } }).cause?.code === 'ECONNRESET')
      return createPart(apiUrl, id, run, attempt + 1);
    throw error;
  }
}

/** A list whose every new line is printed at once (a long run shows its progress). */
function printing(first: string[]): { push(line: string): void } {
  for (const line of first) console.log(line);
  return { push: (line: string) => console.log(line) };
}

function memoryLine(label: string): string {
  const m = memory();
  const f = (n: number) => n.toFixed(0).padStart(5);
  return `  ${label.padEnd(22)} rss ${f(m.rss)}  heapUsed ${f(m.heapUsed)} (of ${f(m.heapTotal)})  external ${f(m.external)}  arrayBuffers ${f(m.arrayBuffers)}  peak rss ${f(m.peakRss)} MiB`;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const bench = await benchEnvironment();
  const { config, temporal } = freePortStackConfig(bench.env);
  const stack = await startStack({ config, temporal, startTemporal: true });
  stopOnSignal(stack.stop);
  const run = `mem-${Date.now().toString(36)}`;
  const ids = Array.from({ length: parts }, (_, index) => `urn:${run}:part:${index}`);
  const lines = printing([
    `Tracewell memory benchmark: ${parts} part-basic parts in flight (waiting at "sold"), concurrency ${concurrency}, SQL ${stack.core.database.kind}, maxCachedWorkflows ${temporal.worker.maxCachedWorkflows}`,
    memoryLine('stack started'),
  ]);
  const sampler = setInterval(() => memory(), 250); // keeps maxRSS honest between the prints
  try {
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(concurrency, parts) }, async () => {
        while (next < parts) {
          const index = next++;
          const id = ids[index]!;
          await createPart(stack.apiUrl, id, run);
          if ((index + 1) % 500 === 0) lines.push(memoryLine(`${index + 1} parts started`));
        }
      }),
    );
    // In flight: every mint done, so each workflow waits at its await step.
    const db = stack.core.database.db;
    for (;;) {
      const [row] = await db
        .select({ n: sql<number>`count(*)::int` })
        .from(stepRuns)
        .where(and(like(stepRuns.partId, `urn:${run}:%`), eq(stepRuns.stepId, 'mint'), eq(stepRuns.status, 'succeeded')));
      if (row!.n >= parts) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const startS = (performance.now() - t0) / 1000;
    lines.push(`  ${parts} parts minted and waiting after ${startS.toFixed(1)} s (${(parts / startS).toFixed(1)} parts/s)`);
    lines.push(memoryLine('all in flight'));

    // Concurrent reads of the waiting parts: each once, the same again, then a burst on a few parts.
    const hot = Math.min(20, parts);
    for (const [label, pick] of [
      [`${reads} concurrent GET /parts/{id}, ${Math.min(reads, parts)} parts`, (index: number) => ids[index % parts]!],
      ['the same again', (index: number) => ids[index % parts]!],
      [`${reads} concurrent GET /parts/{id}, ${hot} parts`, (index: number) => ids[index % hot]!],
    ] as const) {
      lines.push(`  ${label}: ${await concurrentReads(stack.apiUrl, reads, pick)}`);
    }
    lines.push(memoryLine('after reads'));
    if (process.env.BENCH_READ_SOURCES) await readSources(stack, ids, reads, lines);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    global.gc?.();
    lines.push(memoryLine('idle 10 s later'));
  } finally {
    clearInterval(sampler);
    await stack.stop();
    await bench.cleanup();
  }
}

/** Where a part read's time goes: the same concurrent reads, one source at a time. */
async function readSources(stack: Stack, ids: string[], n: number, lines: { push(line: string): void }) {
  const sources: Array<[string, (id: string) => Promise<unknown>]> = [
    ['Temporal describe', (id) => stack.client.workflow.getHandle(id).describe()],
    ['Temporal query', (id) => stack.client.workflow.getHandle(id).query(PART_RUN_STATE_QUERY)],
    ['SQL part record', (id) => getPartRecord(stack.core.database.db, id)],
  ];
  for (const [name, read] of sources) {
    const times: number[] = [];
    await Promise.all(
      Array.from({ length: n }, async (_, index) => {
        const t = performance.now();
        await read(ids[index % ids.length]!);
        times.push(performance.now() - t);
      }),
    );
    times.sort((a, b) => a - b);
    lines.push(
      `    ${n} concurrent ${name.padEnd(18)} p50 ${percentile(times, 50).toFixed(0)} ms, p99 ${percentile(times, 99).toFixed(0)} ms`,
    );
  }
}

runBenchmark(main);
