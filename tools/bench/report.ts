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

function table(header: string[], rows: string[][]): string {
  const widths = header.map((_, i) => Math.max(...[header, ...rows].map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('   ')}`;
  return [line(header), ...rows.map(line)].join('\n');
}

/** Prints the report; answers true when a correctness check failed. */
export function printReport(report: Report): boolean {
  const { runs, parts, concurrency } = report;
  const header = ['', ...runs.flatMap((run) => ['bare workflow', `Tracewell ${modeName(run)}`])];
  const both = (bare: (run: StackRun) => string, tracewell: (run: StackRun) => string) =>
    runs.flatMap((run) => [bare(run), tracewell(run)]);
  const latency = (phase: PhaseResult) =>
    `${ms(percentile(phase.latencies, 50))} / ${ms(percentile(phase.latencies, 99))} / ${ms(phase.latencies.at(-1))}`;
  const perTx = (chain: ChainFigures) => (chain.transactions ? (chain.partEvents / chain.transactions).toFixed(2) : '-');
  const gasPerEvent = (chain: ChainFigures) => (chain.partEvents ? Number(chain.gasUsed) / chain.partEvents : undefined);
  const roles = [...new Set(runs.flatMap((run) => [...run.barePeaks.keys(), ...run.tracewellPeaks.keys()]))];
  const rows: string[][] = [
    [
      'LEDGER_BATCH_MAX_ITEMS',
      ...both(
        () => '-',
        (run) => run.batchSetting,
      ),
    ],
    [
      'stack start-up (s)',
      ...both(
        () => '',
        (run) => run.startupS.toFixed(1),
      ),
    ],
    [
      'throughput (parts/s)',
      ...both(
        (run) => rate(run.bare).toFixed(1),
        (run) => rate(run.tracewell).toFixed(1),
      ),
    ],
    [
      'phase duration (s)',
      ...both(
        (run) => run.bare.elapsedS.toFixed(1),
        (run) => run.tracewell.elapsedS.toFixed(1),
      ),
    ],
    [
      'ratio to bare (same server)',
      ...both(
        () => '1.00',
        (run) => (rate(run.tracewell) / rate(run.bare)).toFixed(2),
      ),
    ],
    [
      'latency p50 / p99 / max (ms)',
      ...both(
        (run) => latency(run.bare),
        (run) => latency(run.tracewell),
      ),
    ],
    [
      'transactions (receipts)',
      ...both(
        () => '-',
        (run) => String(run.chain.transactions),
      ),
    ],
    [
      'part events (mirrored rows)',
      ...both(
        () => '-',
        (run) => String(run.chain.partEvents),
      ),
    ],
    [
      'part events per transaction',
      ...both(
        () => '-',
        (run) => perTx(run.chain),
      ),
    ],
    [
      'gas per part event',
      ...both(
        () => '-',
        (run) => ms(gasPerEvent(run.chain)),
      ),
    ],
    [
      'mirror lag p50 / p99 (ms)',
      ...both(
        () => '-',
        (run) => `${ms(percentile(run.lag, 50))} / ${ms(percentile(run.lag, 99))}`,
      ),
    ],
    ...roles.map((role) => [
      `peak RSS ${role}`,
      ...both(
        (run) => mib(run.barePeaks.get(role)),
        (run) => mib(run.tracewellPeaks.get(role)),
      ),
    ]),
  ];

  const lines = [
    `Tracewell lifecycle benchmark: ${parts} parts of part-basic (create → mint → await sold → transfer), concurrency ${concurrency}`,
    ...runs.map((run) => `  ${modeName(run)} stack: ${run.description}; Temporal dev server, anvil automine`),
    '  On each stack the bare workflow (same activities, local activities, signal and search attributes; activities do nothing;',
    '  started by a Temporal client, its own task queue and worker in the bench process) runs first, then Tracewell over HTTP.',
    '  Peak RSS is per phase (VmHWM, reset before each phase).',
    `  uptime before: ${report.uptimeBefore}`,
    '',
    table(header, rows),
    '',
    'Checks',
  ];
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

  lines.push('', 'Targets (issue 21)');
  const batched = runs.find((run) => run.mode === 'on');
  const naive = runs.find((run) => run.mode === 'off');
  const verdict = (met: boolean) => (met ? 'met' : 'NOT met');
  for (const run of runs) {
    const ratio = rate(run.tracewell) / rate(run.bare);
    lines.push(`  Tracewell ${modeName(run)} ≥ 0.7 of the bare rate: ${ratio.toFixed(2)} (${verdict(ratio >= 0.7)})`);
  }
  if (batched) {
    const perTxBatched = batched.chain.partEvents / batched.chain.transactions;
    lines.push(`  ≥ 20 part events per transaction (batched): ${perTxBatched.toFixed(2)} (${verdict(perTxBatched >= 20)})`);
  }
  if (batched && naive) {
    const ratio = gasPerEvent(batched.chain)! / gasPerEvent(naive.chain)!;
    lines.push(`  gas per part event batched ≤ 1/3 of naive: ${ratio.toFixed(2)} of naive (${verdict(ratio <= 1 / 3)})`);
  } else lines.push('  gas per part event batched vs naive: needs --batch both');
  if (report.workers === 0)
    for (const run of runs) {
      const peak = run.tracewellPeaks.get(roles[0]!);
      lines.push(
        `  peak RSS of the worker + API process ≤ 400 MiB (${modeName(run)}, ${parts} parts): ${mib(peak)} (${verdict((peak ?? Infinity) <= 400)})`,
      );
    }
  lines.push(`  bench process peak RSS over the whole run (process.resourceUsage().maxRSS): ${mib(process.resourceUsage().maxRSS / 1024)}`);
  lines.push(`  uptime after: ${report.uptimeAfter}`);
  console.log(lines.join('\n'));
  return failed;
}
