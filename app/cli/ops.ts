// `tracewell ops …`: the ops side of the HTTP API from a terminal. Lists failed steps, retries one
// (as it was, or with `--set key=value` edits), skips it, aborts or resets a part, and retries every
// failure matching a filter with a progress bar.
import type { Command } from 'commander';
import { entryFor, Errors } from '../../domain/errors/catalogue.js';
import { CodedError, ERROR_STATUSES } from '../../domain/errors/coded-error.js';
import type { ErrorStatus } from '../../domain/errors/coded-error.js';
import { progressOn } from './progress.js';
import { resolveApiTarget, withTargetOptions } from './target.js';
import type { TargetFlags } from './target.js';
import { readDataDir } from '../devstack/stack-file.js';

/** The API's error answer as the coded error it was (a code this CLI does not know keeps the answer's status). */
function answered(status: number, answer: { code: string; message: string; details?: unknown }): CodedError {
  const known = ERROR_STATUSES.includes(status as ErrorStatus) ? (status as ErrorStatus) : 500;
  return CodedError.received(
    entryFor(answer.code) ?? { code: answer.code, status: known, message: answer.message },
    answer.message,
    answer.details,
  );
}

export interface Connection {
  api: string;
  /** The operator's API key: the audit trail names the participant it belongs to. */
  apiKey: string;
}

/** `key=value` pairs to an object; a value that parses as JSON is taken as such (numbers, lists). */
export function parseAssignments(pairs: string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new CodedError(Errors.invalid_option, { problem: `--set ${pair}: expected key=value` });
    const text = pair.slice(at + 1);
    let value: unknown = text;
    try {
      value = JSON.parse(text);
    } catch {
      // a plain string
    }
    params[pair.slice(0, at)] = value;
  }
  return params;
}

async function request(
  connection: Connection,
  method: string,
  path: string,
  body?: unknown,
  accept = 'application/json',
): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(`${connection.api}${path}`, {
      method,
      headers: {
        accept,
        authorization: `Bearer ${connection.apiKey}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new CodedError(Errors.api_unreachable, { url: connection.api, reason: (error as Error).message });
  }
  if (!response.ok) {
    const answer = (await response.json().catch(() => ({}))) as { error?: { code: string; message: string; details?: unknown } };
    if (response.status === 401)
      throw new CodedError(Errors.api_key_refused, { url: connection.api, reason: answer.error?.message ?? 'HTTP 401' });
    throw answered(response.status, answer.error ?? { code: Errors.internal_error.code, message: `HTTP ${response.status}` });
  }
  return response;
}

export const callJson = async (connection: Connection, method: string, path: string, body?: unknown) =>
  (await request(connection, method, path, body)).json() as Promise<any>;

const FILTERS = ['lifecycle', 'version', 'kind', 'step', 'code', 'olderThan', 'newerThan'] as const;

function withFilters(command: Command): Command {
  return command
    .option('--lifecycle <name>', 'lifecycle name')
    .option('--version <n>', 'lifecycle version')
    .option('--kind <kind>', 'step kind, e.g. transfer')
    .option('--step <id>', 'step id')
    .option('--code <code>', 'error code, e.g. ChainUnavailableError')
    .option('--older-than <duration>', 'failed at least this long ago, e.g. 15m')
    .option('--newer-than <duration>', 'failed at most this long ago, e.g. 2h');
}

function filtersOf(options: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(FILTERS.filter((name) => options[name] !== undefined).map((name) => [name, String(options[name])]));
}

function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows
    .map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '))
    .join('\n');
}

export function registerOpsCommands(program: Command): void {
  const ops = withTargetOptions(
    program
      .command('ops')
      .description('see failed steps and retry, skip, abort or reset parts; see and re-send chain transactions (through the HTTP API)'),
  );
  const connection = (): Connection => {
    const target = resolveApiTarget(ops.opts<TargetFlags>(), process.env, readDataDir, 'tracewell ops');
    return { api: target.url, apiKey: target.apiKey };
  };
  registerFailures(ops, connection, () => Boolean(program.opts().json));
  registerDecisions(ops, connection);
  registerRetryAll(ops, connection);
  registerTransactions(ops, connection, () => Boolean(program.opts().json));
}

/** `ops transactions` and `ops resend-tx`: pending, stuck and lost chain transactions, and sending one again. */
function registerTransactions(ops: Command, connection: () => Connection, json: () => boolean): void {
  ops
    .command('transactions')
    .description('list pending, re-sent, stuck and lost chain transactions, newest first')
    .option('--status <status>', 'pending (default), stuck, lost or all')
    .option('--signer <participant|address>', "only this signer's transactions")
    .option('--stuck-after <duration>', 'pending longer than this is stuck (default 60s)')
    .option('--limit <n>', 'at most this many', '100')
    .action(async (options: { status?: string; signer?: string; stuckAfter?: string; limit: string }) => {
      const query = new URLSearchParams({ limit: options.limit });
      if (options.status) query.set('status', options.status);
      if (options.signer) query.set('signer', options.signer);
      if (options.stuckAfter) query.set('stuckAfter', options.stuckAfter);
      const answer = await callJson(connection(), 'GET', `/ops/transactions?${query}`);
      if (json()) return void console.log(JSON.stringify(answer, null, 2));
      if (answer.transactions.length === 0) return void console.log('no transactions match');
      const rows = answer.transactions.map((tx: any) => [
        tx.key,
        tx.stuck ? `${tx.status} (stuck)` : tx.status,
        age(tx.ageSeconds),
        tx.signer.participantId ?? tx.signer.address,
        String(tx.nonce),
        String(tx.attempts),
        `${tx.items.count}${tx.items.parts.length ? ` ${tx.items.parts.map((p: any) => `${p.partId}/${p.stepId ?? '-'}`).join(', ')}` : ''}`,
        tx.txHash,
      ]);
      console.log(table([['KEY', 'STATUS', 'AGE', 'SIGNER', 'NONCE', 'ATTEMPTS', 'ITEMS', 'HASH'], ...rows]));
    });

  ops
    .command('resend-tx')
    .description('re-send a pending transaction now, re-signed with higher fees')
    .argument('<key>', 'the transaction key (from `ops transactions`)')
    .requiredOption('--reason <text>', 'why (required)')
    .action(async (key: string, options: { reason: string }) => {
      const answer = await callJson(connection(), 'POST', `/ops/transactions/${encodeURIComponent(key)}/resend`, {
        reason: options.reason,
      });
      const tx = answer.transaction;
      console.log(
        answer.resent
          ? `re-sent ${key} as ${tx.key} (attempt ${tx.attempts}, nonce ${tx.nonce}, ${tx.txHash})`
          : `marked ${key} for re-sending: the signer's next heal pass sends it again (now attempt ${tx.attempts}, ${tx.status})`,
      );
    });
}

/** `ops failures`: a page of failed steps as a table (or JSON with the program's `--json`). */
function registerFailures(ops: Command, connection: () => Connection, json: () => boolean): void {
  withFilters(ops.command('failures').description('list failed steps, oldest first'))
    .option('--status <status>', 'parked (default), failed or all')
    .option('--limit <n>', 'rows per page', '50')
    .option('--cursor <cursor>', 'the page after this cursor')
    .action(async (options: Record<string, string | boolean>) => {
      const query = new URLSearchParams({ ...filtersOf(options), limit: String(options.limit) });
      if (options.status) query.set('status', String(options.status));
      if (options.cursor) query.set('cursor', String(options.cursor));
      const page = await callJson(connection(), 'GET', `/ops/failures?${query}`);
      // `--json` is the program's option (it also makes failures JSON).
      if (json()) return void console.log(JSON.stringify(page, null, 2));
      if (page.failures.length === 0) return void console.log('no failed steps match');
      const rows = page.failures.map((f: any) => [
        f.partId,
        `${f.lifecycle.name} v${f.lifecycle.version}`,
        `${f.step.id} (${f.step.kind})`,
        f.error.code ?? '',
        String(f.attempts),
        f.ageSeconds === null ? '-' : age(f.ageSeconds),
        f.partStatus,
        f.error.message ?? '',
      ]);
      console.log(table([['PART', 'LIFECYCLE', 'STEP', 'CODE', 'ATTEMPTS', 'AGE', 'STATUS', 'MESSAGE'], ...rows]));
      console.log(`\n${page.failures.length} of ${page.total} shown${page.nextCursor ? `; next page: --cursor ${page.nextCursor}` : ''}`);
    });
}

/** `ops retry|skip|abort|reset`: one operator decision on one part. */
function registerDecisions(ops: Command, connection: () => Connection): void {
  ops
    .command('retry')
    .description('retry the failed step of a part, as it was or with edited parameters')
    .argument('<part>', 'part id')
    .argument('<step>', 'the failed step')
    .option('--set <key=value...>', 'edit a step parameter (repeatable)')
    .option('--reason <text>', 'why, for the audit trail')
    .action(async (part: string, step: string, options: { set?: string[]; reason?: string }) => {
      const params = options.set ? parseAssignments(options.set) : undefined;
      await callJson(connection(), 'POST', `/parts/${encodeURIComponent(part)}/steps/${encodeURIComponent(step)}/retry`, {
        ...(params ? { params } : {}),
        ...(options.reason ? { reason: options.reason } : {}),
      });
      console.log(`retrying ${part} step ${step}${params ? ` with ${JSON.stringify(params)}` : ''}`);
    });

  ops
    .command('skip')
    .description('skip the failed step of a part and go on with the next')
    .argument('<part>', 'part id')
    .argument('<step>', 'the failed step')
    .requiredOption('--reason <text>', 'why (required)')
    .action(async (part: string, step: string, options: { reason: string }) => {
      await callJson(connection(), 'POST', `/parts/${encodeURIComponent(part)}/steps/${encodeURIComponent(step)}/skip`, {
        reason: options.reason,
      });
      console.log(`skipped ${part} step ${step}`);
    });

  ops
    .command('abort')
    .description('end a parked part as aborted')
    .argument('<part>', 'part id')
    .requiredOption('--reason <text>', 'why (required)')
    .action(async (part: string, options: { reason: string }) => {
      const answer = await callJson(connection(), 'POST', `/parts/${encodeURIComponent(part)}/abort`, { reason: options.reason });
      console.log(`aborted ${part} at step ${answer.step}`);
    });

  ops
    .command('reset')
    .description("reset a part's workflow to its last good workflow task (after a bad deploy)")
    .argument('<part>', 'part id')
    .requiredOption('--reason <text>', 'why (required)')
    .option('--event-id <n>', 'reset to this workflow task event instead')
    .action(async (part: string, options: { reason: string; eventId?: string }) => {
      const answer = await callJson(connection(), 'POST', `/parts/${encodeURIComponent(part)}/reset`, {
        reason: options.reason,
        ...(options.eventId ? { eventId: Number(options.eventId) } : {}),
      });
      console.log(`reset ${part} to event ${answer.eventId}: run ${answer.previousRunId} -> ${answer.runId}`);
    });
}

/** `ops retry-all`: the bulk retry, its progress streamed to a bar on stderr. */
function registerRetryAll(ops: Command, connection: () => Connection): void {
  withFilters(ops.command('retry-all').description('retry every parked step matching the filter, with a progress bar'))
    .option('--all', 'every parked step (when no filter is given)')
    .option('--reason <text>', 'why, for the audit trail')
    .option('--max <n>', 'at most this many', '1000')
    .action(async (options: Record<string, string | boolean>) => {
      const filters: Record<string, unknown> = filtersOf(options);
      if (filters.version !== undefined) filters.version = Number(filters.version);
      const body = {
        ...filters,
        ...(options.all ? { all: true } : {}),
        ...(options.reason ? { reason: options.reason } : {}),
        max: Number(options.max),
      };
      const response = await request(connection(), 'POST', '/ops/failures/retry', body, 'application/x-ndjson');
      const summary = await readRetryStream(response);
      if (!summary) throw new CodedError(Errors.api_stream_ended);
      console.log(`matched ${summary.matched}, retried ${summary.retried}, skipped ${summary.skipped}, errors ${summary.errors}`);
      for (const item of summary.notRetried) console.log(`  ${item.partId} ${item.stepId}: ${item.outcome} ${item.code}: ${item.message}`);
      if (summary.errors > 0) process.exitCode = 1;
    });
}

/** Reads the bulk retry's NDJSON answer, showing each event on a progress bar; returns its summary. */
async function readRetryStream(response: Response): Promise<any> {
  const progress = progressOn(process.stderr);
  let summary: any;
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines.filter(Boolean)) {
      const event = JSON.parse(line);
      if (event.type === 'progress')
        progress.update(event.done, event.total, event.outcome === 'retried' ? '' : `${event.partId}: ${event.outcome} (${event.code})`);
      if (event.type === 'summary') summary = event;
      if (event.type === 'error') throw answered(500, event);
    }
  }
  progress.finish();
  return summary;
}
