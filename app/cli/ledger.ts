// `tracewell verify` and `tracewell listener status`: the mirror against the chain, and how far the
// listener is behind. Each reads the database and the chain directly (DATABASE_URL, or a stopped dev
// stack's PGlite) or asks an API for the same report (GET /ops/verify, GET /ops/listener), which is
// the way to a running `tracewell dev`: its PGlite is open in that process. app/cli/target.ts decides.
import type { Command } from 'commander';
import type { AppConfig } from '../config/app-config.js';
import { readDataDir } from '../devstack/stack-file.js';
import { openLedgerProcess } from '../wiring/ledger-listener.js';
import type { LedgerProcess } from '../wiring/ledger-listener.js';
import { formatVerifyReport, verifyMirror } from '../../domain/mirror/verify.js';
import type { VerifyReport } from '../../domain/mirror/verify.js';
import { mirrorStatus } from '../../domain/mirror/mirror-status.js';
import type { MirrorStatus } from '../../domain/mirror/mirror-status.js';
import { callJson } from './ops.js';
import { resolveLedgerTarget, withTargetOptions } from './target.js';
import type { TargetFlags } from './target.js';

interface LedgerCommandContext {
  settings: () => AppConfig;
  json: () => boolean;
}

/** Runs `direct` on a ledger process, or GETs `path` from the API the target names. */
async function fromTarget<T>(
  flags: TargetFlags,
  command: string,
  context: LedgerCommandContext,
  path: string,
  direct: (ledger: LedgerProcess, config: AppConfig) => Promise<T>,
): Promise<T> {
  const config = context.settings();
  const target = resolveLedgerTarget(flags, process.env, readDataDir, command);
  if (target.kind === 'api') return (await callJson({ api: target.url, apiKey: target.apiKey }, 'GET', path)) as T;
  const ledger = await openLedgerProcess(config, { source: target });
  try {
    return await direct(ledger, config);
  } finally {
    await ledger.close();
  }
}

export function registerVerify(program: Command, context: LedgerCommandContext): void {
  withTargetOptions(
    program
      .command('verify')
      .description(
        "compare the SQL mirror with the chain's logs and check its hash chain; exits 1 on drift " +
          '(--data-dir of a running `tracewell dev`, --api, or DATABASE_URL and CHAIN_RPC_URL)',
      ),
  ).action(async (flags: TargetFlags) => {
    const report = await fromTarget<VerifyReport>(flags, 'tracewell verify', context, '/ops/verify', (ledger, config) =>
      verifyMirror(ledger.database.db, ledger.chain.client, ledger.listener.ledger, { batchBlocks: config.LEDGER_BATCH_BLOCKS }),
    );
    console.log(context.json() ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
    process.exitCode = report.ok ? 0 : 1;
  });
}

export function registerListenerStatus(listener: Command, context: LedgerCommandContext): void {
  withTargetOptions(
    listener
      .command('status')
      .description(
        'how far the ledger listener is behind the chain, its last error and the reorganisations it undid ' +
          '(--data-dir of a running `tracewell dev`, --api, or DATABASE_URL and CHAIN_RPC_URL)',
      ),
  ).action(async (flags: TargetFlags) => {
    const status = await fromTarget<MirrorStatus>(flags, 'tracewell listener status', context, '/ops/listener', (ledger) =>
      mirrorStatus(ledger.database.db, ledger.chain.client, ledger.listener.ledger),
    );
    console.log(context.json() ? JSON.stringify(status, null, 2) : formatMirrorStatus(status));
  });
}

export function formatMirrorStatus(status: MirrorStatus): string {
  const head = status.head === null ? `chain head unknown (${status.chainError ?? 'no answer'})` : `chain head ${status.head}`;
  const cursor = status.cursor
    ? `mirrored to block ${status.cursor.blockNumber} of ${head}${status.blocksBehind === null ? '' : ` (${status.blocksBehind} behind)`}`
    : `nothing mirrored yet; ${head}`;
  const lines = [
    `${status.ledger.address} on chain ${status.ledger.chainId}: ${cursor}, ${status.events} event(s), last mirrored ${status.lastMirroredAt ?? 'never'}`,
  ];
  if (status.lastError)
    lines.push(
      `  last error (${status.lastError.failures} failed pass(es), at ${status.lastError.at ?? '?'}): ${status.lastError.message}`,
    );
  for (const reorg of status.reorgs)
    lines.push(
      `  reorg: blocks ${reorg.fromBlock}..${reorg.toBlock} undone, ${reorg.removedEvents} event(s) removed, at ${reorg.detectedAt}`,
    );
  return lines.join('\n');
}
