// The lifecycle benchmark's printed report: one table with a bare column and a Tracewell column per
// stack the run started, then the correctness checks and the targets beside the figures.
import type { ChainFigures } from './chain-figures.js';
import type { PhaseResult } from './support.js';
import { percentile } from './support.js';

export interface StackRun {
  mode: 'on' | 'off';
  /** LEDGER_BATCH_MAX_ITEMS as the stack got it. */
  batchSetting: string;
  description: string;
  startupS: number;
  bare: PhaseResult;
  tracewell: PhaseResult;
  /** Peak RSS (MiB) per process role during each phase. */
  barePeaks: Map<string, number | undefined>;
  tracewellPeaks: Map<string, number | undefined>;
  chain: ChainFigures;
  /** Receipt to mirrored SQL row, per transaction, ascending (ms). */
  lag: number[];
  checks: { completed: number; registeredOnce: number; registeredTwice: number; nonceConflictLines: string[] };
}

export interface Report {
  parts: number;
  concurrency: number;
  workers: number;
  runs: StackRun[];
  uptimeBefore: string;
  uptimeAfter: string;
}

const rate = (phase: PhaseResult) => phase.parts / phase.elapsedS;
const ms = (value: number | undefined) => (value === undefined ? '-' : value.toFixed(0));
const mib = (value: number | undefined) => (value === undefined ? '-' : `${value.toFixed(0)} MiB`);
const modeName = (run: StackRun) => (run.mode === 'on' ? 'batched' : 'naive');
const latency = (phase: PhaseResult) =>
  `${ms(percentile(phase.latencies, 50))} / ${ms(percentile(phase.latencies, 99))} / ${ms(phase.latencies.at(-1))}`;
const perTx = (count: number, chain: ChainFigures) => (chain.transactions ? (count / chain.transactions).toFixed(2) : '-');
const gasPerEvent = (chain: ChainFigures) => (chain.partEvents ? Number(chain.gasUsed) / chain.partEvents : undefined);
const peakRoles = (runs: StackRun[]) => [...new Set(runs.flatMap((run) => [...run.barePeaks.keys(), ...run.tracewellPeaks.keys()]))];

function table(header: string[], rows: string[][]): string {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ')}`;
  return [line(header), ...rows.map(line)].join('\n');
}

/** A table row: its label, the bare column's cell (blank when the figure is Tracewell's only) and Tracewell's. */
type Row = [label: string, bare: (run: StackRun) => string, tracewell: (run: StackRun) => string];
const none = () => '-';

function figureTable(runs: StackRun[]): string {
  const rows: Row[] = [
    ['LEDGER_BATCH_MAX_ITEMS', none, (run) => run.batchSetting],
    ['stack start-up (s)', () => '', (run) => run.startupS.toFixed(1)],
    ['throughput (parts/s)', (run) => rate(run.bare).toFixed(1), (run) => rate(run.tracewell).toFixed(1)],
    ['phase duration (s)', (run) => run.bare.elapsedS.toFixed(1), (run) => run.tracewell.elapsedS.toFixed(1)],
    ['ratio to bare (same server)', () => '1.00', (run) => (rate(run.tracewell) / rate(run.bare)).toFixed(2)],
    ['latency p50 / p99 / max (ms)', (run) => latency(run.bare), (run) => latency(run.tracewell)],
    ['transactions (receipts)', none, (run) => String(run.chain.transactions)],
    ['write intents per transaction', none, (run) => perTx(run.chain.items, run.chain)],
    ['part events (mirrored rows)', none, (run) => String(run.chain.partEvents)],
    ['part events per transaction', none, (run) => perTx(run.chain.partEvents, run.chain)],
    ['gas per part event', none, (run) => ms(gasPerEvent(run.chain))],
    ['mirror lag p50 / p99 (ms)', none, (run) => `${ms(percentile(run.lag, 50))} / ${ms(percentile(run.lag, 99))}`],
    ...peakRoles(runs).map((role): Row => [
      `peak RSS ${role}`,
      (run) => mib(run.barePeaks.get(role)),
      (run) => mib(run.tracewellPeaks.get(role)),
    ]),
  ];
  const header = ['', ...runs.flatMap((run) => ['bare workflow', `Tracewell ${modeName(run)}`])];
  return table(
    header,
    rows.map(([label, bare, tracewell]) => [label, ...runs.flatMap((run) => [bare(run), tracewell(run)])]),
  );
}

/** The correctness checks of each Tracewell phase; `failed` when one did not hold. */
function checkLines(runs: StackRun[], parts: number): { lines: string[]; failed: boolean } {
  const lines = ['Checks'];
  let failed = false;
  for (const run of runs) {
    const { checks, chain } = run;
    const conflicts = chain.replaced + checks.nonceConflictLines.length;
    const ok = checks.completed === parts && checks.registeredOnce === parts && conflicts === 0;
    failed ||= !ok;
    lines.push(
      `  ${modeName(run)}: ${ok ? 'ok' : 'FAILED'}: completed ${checks.completed}/${parts}; exactly one PartRegistered on chain ${checks.registeredOnce}/${parts}` +
        ` (${checks.registeredTwice} duplicated); nonce conflicts ${conflicts} (${chain.replaced} chain_txs replaced, ${checks.nonceConflictLines.length} sends refused for their nonce in the worker logs)` +
        `; reverted transactions ${chain.reverted}`,
    );
    for (const line of checks.nonceConflictLines.slice(0, 5)) lines.push(`    ${line.slice(0, 200)}`);
  }
  return { lines, failed };
}

/** Issue 21's targets beside the figures. */
function targetLines(report: Report): string[] {
  const { runs, parts } = report;
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  const lines = ['Targets (issue 21)'];
  for (const run of runs) {
    const ratio = rate(run.tracewell) / rate(run.bare);
    lines.push(`  Tracewell ${modeName(run)} ≥ 0.7 of the bare rate: ${ratio.toFixed(2)} (${verdict(ratio >= 0.7)})`);
  }
  const batched = runs.find((run) => run.mode === 'on');
  const naive = runs.find((run) => run.mode === 'off');
  if (batched) {
    const perTxBatched = batched.chain.partEvents / batched.chain.transactions;
    lines.push(`  ≥ 20 part events per transaction (batched): ${perTxBatched.toFixed(2)} (${verdict(perTxBatched >= 20)})`);
  }
  if (batched && naive) {
    const ratio = gasPerEvent(batched.chain)! / gasPerEvent(naive.chain)!;
    lines.push(`  gas per part event batched ≤ 1/3 of naive: ${ratio.toFixed(2)} of naive (${verdict(ratio <= 1 / 3)})`);
  } else lines.push('  gas per part event batched vs naive: needs --batch both');
  // In one process the bench process is the worker + API process (with the bare worker in it too).
  if (report.workers === 0)
    for (const run of runs) {
      const peak = run.tracewellPeaks.get(peakRoles(runs)[0]!);
      lines.push(
        `  peak RSS of the worker + API process ≤ 400 MiB (${modeName(run)}, ${parts} parts): ${mib(peak)} (${verdict((peak ?? Infinity) <= 400)})`,
      );
    }
  return lines;
}

/** Prints the report; answers true when a correctness check failed. */
export function printReport(report: Report): boolean {
  const { runs, parts, concurrency } = report;
  const checks = checkLines(runs, parts);
  const lines = [
    `Tracewell lifecycle benchmark: ${parts} parts of part-basic (create → mint → await sold → transfer), concurrency ${concurrency}`,
    ...runs.map((run) => `  ${modeName(run)} stack: ${run.description}; Temporal dev server, anvil automine`),
    '  On each stack the bare workflow (same activities, local activities, signal and search attributes; activities do nothing;',
    '  started by a Temporal client, its own task queue and worker in the bench process) runs first, then Tracewell over HTTP.',
    '  Peak RSS is per phase (VmHWM, reset before each phase).',
    `  uptime before: ${report.uptimeBefore}`,
    '',
    figureTable(runs),
    '',
    ...checks.lines,
    '',
    ...targetLines(report),
    `  uptime after: ${report.uptimeAfter}`,
  ];
  console.log(lines.join('\n'));
  return checks.failed;
}
