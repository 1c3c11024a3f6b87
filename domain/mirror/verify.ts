// Proves the SQL mirror equals the chain: walks the hash chain of the mirrored rows (a row edited,
// inserted or deleted by hand breaks it), reads the contract's logs again, range by range up to the
// listener's cursor, and compares them with the rows, field by field; then checks the tables derived
// from the events (custody, certificates, owners) against them.
import { and, asc, count, eq, gt, gte, lte } from 'drizzle-orm';
import type { SQL } from 'drizzle-orm';
import { decodeEventLog } from 'viem';
import type { Hex } from 'viem';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import type { Db } from '../../db/client.js';
import { ledgerCursors, ledgerEvents, ledgerReorgs } from '../../db/schema.js';
import type { ChainClient } from '../chain/connection.js';
import { eventHash, GENESIS_HASH, lastEvent } from './event-log.js';
import type { EventRow, LedgerRef } from './event-log.js';
import type { MinedLog } from './event-projection.js';
import { projectionDrift } from './verify-projections.js';
import { stepTransactionDrift } from './verify-transactions.js';
import { LogReader } from './log-reader.js';
import type { Drift } from './drift.js';
import { anchorDrift, latestChainAnchor } from './verify-anchor.js';
import type { ChainAnchor } from './verify-anchor.js';

export type { Drift, DriftKind } from './drift.js';

export interface VerifyReport {
  ok: boolean;
  ledger: LedgerRef;
  /** The listener's cursor: the chain is compared up to this block. */
  cursor: number | null;
  rows: number;
  chainLogs: number;
  blocks: { from: number; to: number } | null;
  drift: Drift[];
  /**
   * The newest anchor of the mirror's head read from the chain (at most the last row checked), and
   * whether the rows recomputed up to it give that head; null when the chain holds none yet.
   */
  anchor: (ChainAnchor & { matches: boolean }) | null;
  /** Transactions steps recorded that were checked on chain (each one missing is `step_tx_missing` drift). */
  stepTransactions: number;
  /** True when more drift was found than the report lists. */
  truncated: boolean;
  durationMs: number;
}

export interface VerifyOptions {
  batchBlocks?: number;
  maxDrift?: number;
}

const COMPARED_FIELDS = ['blockHash', 'txHash', 'address', 'topics', 'data', 'name'] as const;

/**
 * Checks the mirror as of one moment (the last row and the cursor read together), so a listener
 * appending meanwhile is not drift; a reorganisation rolled back meanwhile makes it check again.
 */
export async function verifyMirror(db: Db, client: ChainClient, ledger: LedgerRef, options: VerifyOptions = {}): Promise<VerifyReport> {
  for (let attempt = 1; ; attempt += 1) {
    const reorgsBefore = await reorgCount(db, ledger);
    const report = await verifyOnce(db, client, ledger, options);
    if (report.ok || attempt >= 3 || (await reorgCount(db, ledger)) === reorgsBefore) return report;
  }
}

async function reorgCount(db: Db, ledger: LedgerRef): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(ledgerReorgs)
    .where(and(eq(ledgerReorgs.chainId, ledger.chainId), eq(ledgerReorgs.address, ledger.address)));
  return row?.n ?? 0;
}

type Report = (drift: Drift) => void;
type Cursor = typeof ledgerCursors.$inferSelect;

async function verifyOnce(db: Db, client: ChainClient, ledger: LedgerRef, options: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  const maxDrift = options.maxDrift ?? 1000;
  const drift: Drift[] = [];
  let found = 0;
  const report: Report = (item) => {
    found += 1;
    if (drift.length < maxDrift) drift.push(item);
  };
  const { lastSeq, cursor } = await snapshot(db, ledger);
  const ours = and(eq(ledgerEvents.chainId, ledger.chainId), eq(ledgerEvents.address, ledger.address), lte(ledgerEvents.id, lastSeq));
  const anchor = cursor
    ? await latestChainAnchor(db, client, ledger, BigInt(cursor.startBlock), lastSeq, options.batchBlocks ?? 2000)
    : undefined;
  const { rows, headAt } = await walkHashChain(db, ours, report, anchor?.seq);
  const anchorMismatch = anchor && anchorDrift(anchor, headAt);
  if (anchorMismatch) report(anchorMismatch);
  const { chainLogs, blocks } = cursor
    ? await compareWithChain(db, client, ledger, ours, cursor, options, report)
    : { chainLogs: 0, blocks: null };
  // The tables derived from the events (custody, certificates, owners) against the events.
  for (const item of await projectionDrift(db, ledger)) report(item);
  // Every transaction a step recorded, on chain as recorded.
  const stepTransactions = await stepTransactionDrift(db, client, ledger.chainId, report);
  return {
    ok: found === 0,
    ledger,
    cursor: cursor?.blockNumber ?? null,
    rows,
    chainLogs,
    blocks,
    drift,
    anchor: anchor ? { ...anchor, matches: !anchorMismatch } : null,
    stepTransactions,
    truncated: found > drift.length,
    durationMs: Math.round(performance.now() - started),
  };
}

/** The last mirrored row and the listener's cursor, read together. */
async function snapshot(db: Db, ledger: LedgerRef): Promise<{ lastSeq: number; cursor: Cursor | undefined }> {
  return db.transaction(
    async (tx) => {
      const last = await lastEvent(tx, ledger);
      const [row] = await tx
        .select()
        .from(ledgerCursors)
        .where(and(eq(ledgerCursors.chainId, ledger.chainId), eq(ledgerCursors.address, ledger.address)));
      return { lastSeq: last?.id ?? 0, cursor: row };
    },
    { isolationLevel: 'repeatable read', accessMode: 'read only' },
  );
}

/**
 * Walks the hash chain of the rows in sequence order; returns how many rows it read and the head
 * after row `anchorSeq` recomputed from the rows' content alone (stored hashes not trusted).
 */
async function walkHashChain(
  db: Db,
  ours: SQL | undefined,
  report: Report,
  anchorSeq?: number,
): Promise<{ rows: number; headAt: string | undefined }> {
  let rows = 0;
  let prev = GENESIS_HASH as string;
  let recomputed = GENESIS_HASH as string;
  let headAt: string | undefined;
  for (let after = 0; ;) {
    const page = await db
      .select()
      .from(ledgerEvents)
      .where(and(ours, gt(ledgerEvents.id, after)))
      .orderBy(asc(ledgerEvents.id))
      .limit(1000);
    if (page.length === 0) break;
    for (const row of page) {
      rows += 1;
      if (row.prevHash !== prev) {
        report({
          ...where(row),
          kind: 'chain_broken',
          message: `row ${row.id} does not follow the row before it (${prev.slice(0, 10)}…): a row was deleted, inserted or edited before it`,
        });
      }
      if (eventHash(row.prevHash, row) !== row.hash) {
        report({
          ...where(row),
          kind: 'hash_mismatch',
          message: `row ${row.id} does not match its hash: its content was changed after it was mirrored`,
        });
      }
      prev = row.hash;
      recomputed = eventHash(recomputed, row);
      if (row.id === anchorSeq) headAt = recomputed;
    }
    after = page.at(-1)!.id;
  }
  return { rows, headAt };
}

/** The chain's logs against the rows, range by range up to the cursor; nothing may be mirrored beyond it. */
async function compareWithChain(
  db: Db,
  client: ChainClient,
  ledger: LedgerRef,
  ours: SQL | undefined,
  cursor: Cursor,
  options: VerifyOptions,
  report: Report,
): Promise<Pick<VerifyReport, 'chainLogs' | 'blocks'>> {
  let chainLogs = 0;
  const from = BigInt(cursor.startBlock);
  const to = BigInt(cursor.blockNumber);
  const reader = new LogReader(client, ledger.address, options.batchBlocks ?? 2000);
  for await (const { from: start, to: end, logs } of reader.spans(from, to)) {
    chainLogs += logs.length;
    const mirrored = await db
      .select()
      .from(ledgerEvents)
      .where(and(ours, gte(ledgerEvents.blockNumber, Number(start)), lte(ledgerEvents.blockNumber, Number(end))));
    compareRange(logs, mirrored, report);
  }
  const beyond = await db
    .select()
    .from(ledgerEvents)
    .where(and(ours, gt(ledgerEvents.blockNumber, Number(to))));
  for (const row of beyond)
    report({ ...where(row), kind: 'extra', message: `row ${row.id} is beyond the listener's cursor (block ${to})` });
  return { chainLogs, blocks: { from: Number(from), to: Number(to) } };
}

function where(row: EventRow): Pick<Drift, 'seq' | 'blockNumber' | 'logIndex' | 'txHash'> {
  return { seq: row.id, blockNumber: row.blockNumber, logIndex: row.logIndex, txHash: row.txHash };
}

function compareRange(logs: MinedLog[], rows: EventRow[], report: Report): void {
  const key = (block: number | bigint, logIndex: number) => `${block}:${logIndex}`;
  const byPosition = new Map(rows.map((row) => [key(row.blockNumber, row.logIndex), row]));
  for (const log of logs) {
    const position = key(log.blockNumber, log.logIndex);
    const row = byPosition.get(position);
    byPosition.delete(position);
    const chain = {
      blockHash: log.blockHash,
      txHash: log.transactionHash,
      address: log.address,
      topics: log.topics,
      data: log.data,
      name: eventName(log),
    };
    if (!row) {
      report({
        kind: 'missing',
        blockNumber: Number(log.blockNumber),
        logIndex: log.logIndex,
        txHash: log.transactionHash,
        message: `${chain.name} in block ${log.blockNumber} (log ${log.logIndex}) is on chain but not in the mirror`,
      });
      continue;
    }
    const mirror = {
      blockHash: row.blockHash,
      txHash: row.txHash,
      address: row.address,
      topics: row.topics,
      data: row.data,
      name: row.name,
    };
    const fields = COMPARED_FIELDS.filter((field) => normalise(mirror[field]) !== normalise(chain[field])).map((field) => ({
      field,
      mirror: mirror[field],
      chain: chain[field],
    }));
    if (fields.length > 0) {
      report({
        ...where(row),
        kind: 'different',
        fields,
        message: `row ${row.id} differs from the chain in ${fields.map((f) => f.field).join(', ')}`,
      });
    }
  }
  for (const row of byPosition.values()) {
    report({
      ...where(row),
      kind: 'extra',
      message: `row ${row.id} (${row.name}) has no log on chain at block ${row.blockNumber}, index ${row.logIndex}`,
    });
  }
}

function eventName(log: MinedLog): string {
  try {
    return decodeEventLog({ abi: partRegistryAbi, data: log.data, topics: log.topics as [Hex, ...Hex[]] }).eventName;
  } catch {
    return 'Unknown';
  }
}

/** Hex compares without case; lists element by element. */
function normalise(value: unknown): string {
  return JSON.stringify(value).toLowerCase();
}

/** The report as lines for a terminal. */
export function formatVerifyReport(report: VerifyReport): string {
  const head = `${report.ok ? 'ok' : 'DRIFT'}: ${report.rows} mirrored event(s) of ${report.ledger.address} on chain ${report.ledger.chainId}`;
  const range =
    (report.blocks ? `, ${report.chainLogs} log(s) on chain in blocks ${report.blocks.from}..${report.blocks.to}` : ', never mirrored') +
    `, ${report.stepTransactions} step transaction(s) checked`;
  const lines = [`${head}${range} (${report.durationMs} ms)`];
  lines.push(
    report.anchor
      ? `  anchored on chain: head after seq ${report.anchor.seq} in block ${report.anchor.blockNumber} (tx ${report.anchor.txHash}): ${report.anchor.matches ? 'the mirror matches it' : 'the mirror DOES NOT match it'}`
      : '  anchored on chain: no anchor yet (rows can be rewritten undetected until the first one)',
  );
  for (const item of report.drift) {
    if (item.kind === 'step_tx_missing') {
      lines.push(`  ${item.kind.padEnd(15)} part ${item.partId} step ${item.stepId} tx ${item.txHash}: ${item.message}`);
      continue;
    }
    lines.push(
      `  ${item.kind.padEnd(13)} seq ${item.seq ?? '-'} block ${item.blockNumber} log ${item.logIndex} tx ${item.txHash}: ${item.message}`,
    );
    for (const field of item.fields ?? [])
      lines.push(`      ${field.field}: mirror ${JSON.stringify(field.mirror)} chain ${JSON.stringify(field.chain)}`);
  }
  if (report.truncated) lines.push('  … more drift than listed');
  return lines.join('\n');
}
