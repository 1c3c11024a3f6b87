// `npm run bench [-- --parts 200 --concurrency 20 --batch both --workers N]`: drives part-basic parts
// (create → mint → await `sold` → transfer) over HTTP and shows the limit beside the result, in one
// run. On each stack it starts, it first runs the bare baseline (bare-workflow.ts: the same shape,
// activities that do nothing, started by a Temporal client) on the same Temporal server at the same
// concurrency, then the Tracewell phase; it prints both rates and their ratio, latency, part events
// per transaction and gas per part event (from the phase's receipts and mirrored events), the peak
// RSS of every process per phase, and checks: every part completed, one PartRegistered per part, no
// nonce conflicts. `--batch on|off|both` sets LEDGER_BATCH_MAX_ITEMS (off = 1, one transaction per
// write; both = one stack each, batched first). `--workers N` runs Tracewell as separate processes on
// PostgreSQL (N workers, API, listener). A benchmark, not a test.
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { runBarePhase } from './bare.js';
import { chainFigures, databaseNow, registrationsOnChain } from './chain-figures.js';
import type { ChainFigures, Query } from './chain-figures.js';
import { startCluster } from './cluster.js';
import type { BenchTarget } from './cluster.js';
import { startEmbedded } from './embedded.js';
import { peakRssMiB, resetPeakRss } from './process-memory.js';
import { BENCH_ADMIN_API_KEY, runBenchmark, runParts } from './support.js';
import type { PhaseResult } from './support.js';
import { printReport } from './report.js';
import type { StackRun } from './report.js';

const { values } = parseArgs({
  options: {
    parts: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '20' },
    batch: { type: 'string', default: 'both' },
    workers: { type: 'string', default: '0' },
  },
});
const parts = Number(values.parts);
const concurrency = Number(values.concurrency);
const workers = Number(values.workers);
const batch = values.batch!;
if (!['on', 'off', 'both'].includes(batch)) throw new Error(`--batch ${batch}: on, off or both`);
if (!(parts > 0 && concurrency > 0 && workers >= 0)) throw new Error('--parts and --concurrency must be positive, --workers 0 or more');

const log = (line: string) => console.error(`[bench] ${line}`);

async function post(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_ADMIN_API_KEY}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  }).catch((error: unknown) => {
    throw new Error(`POST ${url} failed: ${(error as Error).message}`);
  });
  return { status: response.status, body: await response.json() };
}

/** The Tracewell phase: each part created and its sale signalled over HTTP, then its workflow awaited. */
async function tracewellPhase(target: BenchTarget, run: string): Promise<{ result: PhaseResult; completed: number; since: string }> {
  let completed = 0;
  const lifecycle = async (index: number): Promise<void> => {
    const id = `urn:${run}:part:${index}`;
    const created = await post(`${target.apiUrl}/parts`, { id, lifecycle: 'part-basic', params: { batch: `b-${index}` } });
    if (created.status !== 201) throw new Error(`create ${id}: ${created.status} ${JSON.stringify(created.body)}`);
    const sold = await post(`${target.apiUrl}/parts/${id}/signals/sold`, { buyer: 'northwind-logistics' });
    if (sold.status !== 202) throw new Error(`sold ${id}: ${sold.status} ${JSON.stringify(sold.body)}`);
    const state = (await target.client.workflow.getHandle(id).result()) as { status: string };
    if (state.status === 'completed' && index >= 0) completed += 1;
  };
  await lifecycle(-1); // warm-up: workflow cache, connections, JIT; its transactions are not counted
  const since = await databaseNow(target.query);
  const result = await runParts(parts, concurrency, lifecycle);
  return { result, completed, since };
}

/** Peak RSS (MiB) of each of the target's processes since the last reset. */
function peaks(target: BenchTarget): Map<string, number | undefined> {
  return new Map(target.processes().map((p) => [p.role, peakRssMiB(p.pid)]));
}

function resetPeaks(target: BenchTarget): void {
  for (const p of target.processes()) resetPeakRss(p.pid);
}

/** For each workflow transaction of the phase: from its receipt (recorded as mined) to its first mirrored row. */
async function writeLag(query: Query, since: string): Promise<number[]> {
  const rows = await query(`
    select extract(epoch from (min(e.mirrored_at) - c.updated_at)) * 1000 as lag
    from chain_txs c join ledger_events e on e.tx_hash = c.tx_hash
    where c.status = 'mined' and c.created_at >= '${since}'::timestamptz
    group by c.tx_hash, c.updated_at`);
  return rows.map((row) => Number(row.lag)).sort((a, b) => a - b);
}

/** One stack: start it with the batch setting, bare phase, Tracewell phase, figures, stop. */
async function runOnStack(mode: 'on' | 'off'): Promise<StackRun> {
  // off: one transaction per write. on: the transaction manager's own default, or what the caller set.
  const batchEnv: NodeJS.ProcessEnv = mode === 'off' ? { LEDGER_BATCH_MAX_ITEMS: '1' } : {};
  const saved = process.env.LEDGER_BATCH_MAX_ITEMS;
  if (mode === 'off') process.env.LEDGER_BATCH_MAX_ITEMS = '1';
  const startedAt = performance.now();
  log(`starting the stack (--batch ${mode})`);
  const target = workers > 0 ? await startCluster(workers, batchEnv, log) : await startEmbedded(batchEnv);
  const startupS = (performance.now() - startedAt) / 1000;
  try {
    const run = `bench-${Date.now().toString(36)}`;
    log(`bare workflow phase: ${parts} parts, concurrency ${concurrency}`);
    resetPeaks(target);
    const bare = await runBarePhase(target.client, target.temporal, parts, concurrency);
    const barePeaks = peaks(target);

    log(`Tracewell phase: ${parts} parts, concurrency ${concurrency}`);
    resetPeaks(target);
    const tracewell = await tracewellPhase(target, run);
    const tracewellPeaks = peaks(target);
    log('reading receipts and mirrored events');
    const chain: ChainFigures = await chainFigures(target.query, target.chain, tracewell.since);
    const lag = await writeLag(target.query, tracewell.since);
    const registrations = await registrationsOnChain(target.chain, target.registry, `urn:${run}:part:`);
    const ids = Array.from({ length: parts }, (_, i) => `urn:${run}:part:${i}`);
    return {
      mode,
      batchSetting: process.env.LEDGER_BATCH_MAX_ITEMS ?? '(default)',
      description: target.description,
      startupS,
      bare,
      tracewell: tracewell.result,
      barePeaks,
      tracewellPeaks,
      chain,
      lag,
      checks: {
        completed: tracewell.completed,
        registeredOnce: ids.filter((id) => registrations.get(id) === 1).length,
        registeredTwice: ids.filter((id) => (registrations.get(id) ?? 0) > 1).length,
        nonceConflictLines: target.nonceConflictLines(),
      },
    };
  } finally {
    await target.stop();
    if (saved === undefined) delete process.env.LEDGER_BATCH_MAX_ITEMS;
    else process.env.LEDGER_BATCH_MAX_ITEMS = saved;
  }
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const uptimeBefore = execFileSync('uptime', { encoding: 'utf8' }).trim();
  const modes: ('on' | 'off')[] = batch === 'both' ? ['on', 'off'] : [batch as 'on' | 'off'];
  const runs: StackRun[] = [];
  for (const mode of modes) runs.push(await runOnStack(mode));
  const failed = printReport({
    parts,
    concurrency,
    workers,
    runs,
    uptimeBefore,
    uptimeAfter: execFileSync('uptime', { encoding: 'utf8' }).trim(),
  });
  // The checks are the run's correctness, not its speed: a failed one makes the run fail.
  if (failed) process.exitCode = 1;
}

runBenchmark(main);
