// The ledger listener: mirrors every PartRegistry event into SQL, in chain order, from a cursor kept
// in SQL. Each pass reads a bounded block range (halved while the node refuses it), only blocks
// with enough confirmations, and first checks that the block under the cursor is still the chain's:
// if not, a reorganisation replaced it, and the mirror rolls back to the last block both agree on
// and reads again. Activities call `catchUp` after their own writes, so SQL shows a write as soon as
// its activity completes; the polling loop (`start`) picks up everything else.
import { setTimeout as delay } from 'node:timers/promises';
import { and, desc, eq, gt, lte } from 'drizzle-orm';
import { BlockNotFoundError, getAddress, hexToBytes, keccak256 } from 'viem';
import type { Hex } from 'viem';
import type { Db } from '../../db/client.js';
import { ledgerCursors, ledgerEvents, ledgerReorgs } from '../../db/schema.js';
import type { MirrorSignal } from '../streams/mirror-signal.js';
import type { ChainClient } from '../chain/connection.js';
import { appendEvent, lastHash, lockLedger, recordRemovals } from './event-log.js';
import type { LedgerRef, Tx } from './event-log.js';
import { EventProjector, undoProjections } from './event-projection.js';
import type { MinedLog } from './event-projection.js';
import { LogReader } from './log-reader.js';
import type { PartRegistry } from '../chain/part-registry.js';

export interface ListenerOptions {
  /**
   * How long the node's head may stay below the cursor before the blocks above it are taken as
   * gone (a node that lost them) rather than not yet served (a lagging backend).
   */
  behindGraceMs: number;
  /** Blocks a block needs on top of it before it is mirrored (0 on a dev chain). */
  confirmations: number;
  /** Most blocks one eth_getLogs call asks for. */
  batchBlocks: number;
  /** Pause between passes once the mirror has caught up. */
  pollMs: number;
  /** Backoff after a failed pass (RPC or SQL down): doubles from `initialMs` up to `maxMs`. */
  backoff: { initialMs: number; maxMs: number };
  /** The first block to read when the contract has no cursor yet (its deployment block). */
  startBlock: bigint;
  signal?: MirrorSignal;
  log?: (line: string) => void;
}

/** How long `catchUp` waits for a node that does not show the block yet. */
const CATCH_UP_PATIENCE_MS = 5_000;

export const DEFAULT_LISTENER_OPTIONS: Omit<ListenerOptions, 'startBlock'> = {
  confirmations: 0,
  behindGraceMs: 10_000,
  batchBlocks: 2_000,
  pollMs: 1_000,
  backoff: { initialMs: 500, maxMs: 30_000 },
};

interface Cursor {
  blockNumber: bigint;
  blockHash: Hex | null;
}

/** What one pass did. */
export interface PassResult {
  /** Blocks read (inclusive), when the pass read any. */
  range?: { from: bigint; to: bigint };
  /** Events appended. */
  appended: number;
  /** A reorganisation found and rolled back: the mirror is to be read again from `fromBlock`. */
  reorg?: { fromBlock: bigint; removed: number };
  /** True when the cursor is at the last confirmed block. */
  upToDate: boolean;
}

export interface ListenerStatus {
  ledger: LedgerRef;
  cursor: { blockNumber: number; blockHash: string | null } | null;
  headBlock: number | null;
  confirmations: number;
  running: boolean;
  lastError: { message: string; at: string; failures: number } | null;
}

export class LedgerListener {
  readonly ledger: LedgerRef;
  private readonly options: ListenerOptions;
  private readonly projector: EventProjector;
  /** Passes of this process run one at a time; other processes are held off by the SQL lock. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly logs: LogReader;
  private loop?: Promise<void>;
  private stopping?: AbortController;
  private lastError: ListenerStatus['lastError'] = null;
  /** Passes begun by this process, and the number of the last one that succeeded. */
  private passesBegun = 0;
  private lastPassDone = 0;
  /** Since when the node's head has been below the cursor (see `wentBack`). */
  private behindSince: number | undefined;

  constructor(
    private readonly db: Db,
    private readonly registry: PartRegistry,
    chainId: number,
    options: Partial<ListenerOptions> & Pick<ListenerOptions, 'startBlock'>,
  ) {
    this.ledger = { chainId, address: getAddress(registry.address) };
    this.options = { ...DEFAULT_LISTENER_OPTIONS, ...options };
    this.projector = new EventProjector(db, registry, chainId);
    this.logs = new LogReader(registry.client, this.ledger.address, this.options.batchBlocks, this.options.log);
  }

  private get client() {
    return this.registry.client;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** One pass: a reorganisation check, then the next confirmed block range. */
  async syncOnce(): Promise<PassResult> {
    return (await this.queued())!;
  }

  /** Queues a pass; `skip` (checked when its turn comes) may find it needless and return undefined. */
  private queued(skip?: () => Promise<boolean>): Promise<PassResult | undefined> {
    const pass = this.queue.then(async () => {
      if (skip && (await skip())) return undefined;
      const number = ++this.passesBegun;
      const result = await this.pass();
      this.lastPassDone = number;
      return result;
    });
    this.queue = pass.catch(() => undefined);
    return pass;
  }

  /**
   * Mirrors up to `block` (default: the head now), as far as confirmations allow: with
   * confirmations, a block too recent is left to the polling loop. Always sees one pass begun after the
   * call through, so a reorganisation at or below the cursor is found even when the cursor is past
   * `block`. A node
   * that does not show `block` yet (a load-balanced RPC lagging behind) is given a few seconds.
   */
  async catchUp(block?: bigint | null): Promise<void> {
    const target = block ?? (await this.client.getBlockNumber({ cacheTime: 0 }));
    const deadline = Date.now() + CATCH_UP_PATIENCE_MS;
    // Concurrent activities each queue a pass; one begun after this call (so after `block` was
    // mined) that left the cursor past `block` already did this call's work, reorg check included.
    const begunBefore = this.passesBegun;
    const done = async () => this.lastPassDone > begunBefore && (await this.readCursor(this.db)).blockNumber >= target;
    for (;;) {
      const result = await this.queued(done);
      if (!result) return;
      if (result.reorg) continue;
      if ((await this.readCursor(this.db)).blockNumber >= target) return;
      if (!result.upToDate) continue;
      if (this.options.confirmations > 0 || Date.now() > deadline) return;
      await delay(50);
    }
  }

  /** Runs passes until stopped: at once while behind, every `pollMs` once caught up, with backoff on failure. */
  start(): void {
    if (this.loop) return;
    const stopping = (this.stopping = new AbortController());
    this.loop = (async () => {
      let failures = 0;
      // An error an earlier process recorded is cleared by this one's first good pass.
      let storedErrorCleared = false;
      while (!stopping.signal.aborted) {
        let pause = 0;
        try {
          const result = await this.syncOnce();
          if (failures > 0) this.log(`ledger listener recovered after ${failures} failed pass(es)`);
          if (this.lastError || !storedErrorCleared) await this.recordError(null);
          storedErrorCleared = true;
          failures = 0;
          this.lastError = null;
          if (result.reorg)
            this.log(`chain reorganisation: rolled back ${result.reorg.removed} event(s) from block ${result.reorg.fromBlock}`);
          if (result.upToDate && !result.reorg) pause = this.options.pollMs;
        } catch (error) {
          failures += 1;
          const message = (error as Error).message.split('\n')[0]!;
          this.lastError = { message, at: new Date().toISOString(), failures };
          // Kept in SQL too, for /ops/listener in other processes (when SQL is the one down, it waits).
          await this.recordError(this.lastError).catch(() => undefined);
          pause = Math.min(this.options.backoff.initialMs * 2 ** (failures - 1), this.options.backoff.maxMs);
          this.log(`ledger listener pass failed (${failures} in a row), next try in ${pause} ms: ${message}`);
        }
        if (pause > 0) await delay(pause, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    })();
  }

  /** Stops the loop after its current pass. */
  async stop(): Promise<void> {
    this.stopping?.abort();
    await this.loop;
    this.loop = undefined;
  }

  async status(): Promise<ListenerStatus> {
    const [row] = await this.db
      .select()
      .from(ledgerCursors)
      .where(and(eq(ledgerCursors.chainId, this.ledger.chainId), eq(ledgerCursors.address, this.ledger.address)));
    return {
      ledger: this.ledger,
      cursor: row ? { blockNumber: row.blockNumber, blockHash: row.blockHash } : null,
      headBlock: row?.headBlock ?? null,
      confirmations: this.options.confirmations,
      running: this.loop !== undefined,
      lastError: this.lastError,
    };
  }

  private async pass(): Promise<PassResult> {
    const cursor = await this.readCursor(this.db);
    const head = await this.client.getBlockNumber({ cacheTime: 0 });
    // A node behind the cursor is a lagging backend of a load-balanced RPC (waited for), or a chain
    // that went back: a node that lost its last blocks (anvil killed between state saves) or a
    // reorganisation to a shorter fork. That is rolled back like any reorganisation once a mirrored
    // block at or below the head shows another hash, or once the node has stayed behind too long.
    if (head < cursor.blockNumber) {
      if (await this.wentBack(head)) return this.rollBack(cursor);
      return { appended: 0, upToDate: true };
    }
    this.behindSince = undefined;
    if (await this.cursorReplaced(cursor)) return this.rollBack(cursor);
    const confirmed = head - BigInt(this.options.confirmations);
    if (confirmed <= cursor.blockNumber) {
      await this.recordHead(head);
      return { appended: 0, upToDate: true };
    }
    const from = cursor.blockNumber + 1n;
    const { to, logs, toHash } = await this.readRange(from, confirmed);
    // The range was read on a chain whose end did not move; if the cursor's block was replaced
    // meanwhile, the range may sit on another fork than the rows below it.
    if (await this.cursorReplaced(cursor)) return this.rollBack(cursor);
    const prepared = await this.projector.prepare(logs);
    const appended = await this.db.transaction(async (tx) => {
      await lockLedger(tx, this.ledger);
      if (!sameCursor(await this.readCursor(tx), cursor)) return null;
      let prev = await lastHash(tx, this.ledger);
      let count = 0;
      for (const event of prepared) {
        const row = await appendEvent(tx, prev, event.content);
        if (!row) continue;
        prev = row.hash;
        count += 1;
        await event.apply?.(tx);
      }
      await this.writeCursor(tx, { blockNumber: to, blockHash: toHash }, head);
      return count;
    });
    // Another process moved the cursor meanwhile: its rows stand, this pass's reading is dropped.
    if (appended === null) return { appended: 0, upToDate: false };
    if (appended > 0) this.options.signal?.notify();
    return { range: { from, to }, appended, upToDate: to >= confirmed };
  }

  /**
   * The logs of the next span from `from`, up to `last`. The hash of the span's last block is read
   * before and after: if it changed, the chain reorganised under the read, and the span is read again.
   */
  private async readRange(from: bigint, last: bigint): Promise<{ to: bigint; logs: MinedLog[]; toHash: Hex }> {
    for (let unindexed = 0; ;) {
      const before = await this.client.getBlock({ blockNumber: this.logs.end(from, last) });
      const { to, logs } = await this.logs.read(from, before.number);
      // A narrowed read is made again at the narrower span, so that its end is checked too.
      if (to !== before.number) continue;
      const after = await this.client.getBlock({ blockNumber: to });
      if (after.hash !== before.hash) continue;
      // A node may serve a new block before its logs are indexed: when the block's bloom says the
      // contract may have logs there and none came, read again (a few times: blooms have false positives).
      if (unindexed < 5 && !logs.some((log) => log.blockNumber === to) && bloomMayContain(after.logsBloom, this.ledger.address)) {
        unindexed += 1;
        await delay(20 * unindexed);
        continue;
      }
      return { to, logs, toHash: after.hash };
    }
  }

  /** With the node's head below the cursor: whether its chain went back rather than lags. */
  private async wentBack(head: bigint): Promise<boolean> {
    const [newest] = await this.db
      .select({ blockNumber: ledgerEvents.blockNumber, blockHash: ledgerEvents.blockHash })
      .from(ledgerEvents)
      .where(and(this.ours(), lte(ledgerEvents.blockNumber, Number(head))))
      .orderBy(desc(ledgerEvents.blockNumber))
      .limit(1);
    if (newest && (await blockOrNull(this.client, BigInt(newest.blockNumber)))?.hash !== newest.blockHash) return true;
    this.behindSince ??= Date.now();
    if (Date.now() - this.behindSince < this.options.behindGraceMs) return false;
    this.log(
      `the chain's head (block ${head}) has stayed below the mirror's cursor for ${this.options.behindGraceMs} ms: taken as blocks lost`,
    );
    this.behindSince = undefined;
    return true;
  }

  /** Whether the chain's block at the cursor is no longer the one mirrored. */
  private async cursorReplaced(cursor: Cursor): Promise<boolean> {
    if (!cursor.blockHash) return false;
    const block = await blockOrNull(this.client, cursor.blockNumber);
    return block?.hash !== cursor.blockHash;
  }

  /**
   * The block under the cursor is no longer the chain's. Finds the newest mirrored block whose hash the
   * chain still has, removes every event after it (undoing their effects), records the
   * reorganisation, and moves the cursor back there.
   */
  private async rollBack(cursor: Cursor): Promise<PassResult> {
    const ancestor = await this.commonAncestor(cursor.blockNumber);
    const result = await this.db.transaction(async (tx) => {
      await lockLedger(tx, this.ledger);
      if (!sameCursor(await this.readCursor(tx), cursor)) return null;
      const removed = await tx
        .delete(ledgerEvents)
        .where(and(this.ours(), gt(ledgerEvents.blockNumber, Number(ancestor.blockNumber))))
        .returning();
      removed.sort((a, b) => a.id - b.id);
      await undoProjections(tx, removed);
      const [reorg] = await tx
        .insert(ledgerReorgs)
        .values({
          chainId: this.ledger.chainId,
          address: this.ledger.address,
          fromBlock: Number(ancestor.blockNumber + 1n),
          toBlock: Number(cursor.blockNumber),
          removedEvents: removed.length,
          removed: removed.map((row) => ({
            seq: row.id,
            txHash: row.txHash,
            logIndex: row.logIndex,
            name: row.name,
            blockNumber: row.blockNumber,
          })),
        })
        .returning({ id: ledgerReorgs.id });
      // Streams have delivered some of these: each gets a `removed` entry in the same ordered log.
      await recordRemovals(tx, reorg!.id, removed);
      await this.writeCursor(tx, ancestor, null);
      return removed.length;
    });
    if (result === null) return { appended: 0, upToDate: false };
    if (result > 0) this.options.signal?.notify();
    return { appended: 0, reorg: { fromBlock: ancestor.blockNumber + 1n, removed: result }, upToDate: false };
  }

  /** The newest mirrored block the chain still has (by hash); before the start block when there is none. */
  private async commonAncestor(below: bigint): Promise<Cursor> {
    const start = await this.startBlock();
    let upper = Number(below);
    for (;;) {
      const blocks = await this.db
        .selectDistinct({ blockNumber: ledgerEvents.blockNumber, blockHash: ledgerEvents.blockHash })
        .from(ledgerEvents)
        .where(and(this.ours(), lte(ledgerEvents.blockNumber, upper)))
        .orderBy(desc(ledgerEvents.blockNumber))
        .limit(100);
      if (blocks.length === 0) return { blockNumber: start - 1n, blockHash: null };
      for (const stored of blocks) {
        const block = await blockOrNull(this.client, BigInt(stored.blockNumber));
        if (block?.hash === stored.blockHash) return { blockNumber: BigInt(stored.blockNumber), blockHash: block.hash };
      }
      upper = blocks.at(-1)!.blockNumber - 1;
    }
  }

  private ours() {
    return and(eq(ledgerEvents.chainId, this.ledger.chainId), eq(ledgerEvents.address, this.ledger.address));
  }

  private async startBlock(): Promise<bigint> {
    const [row] = await this.db
      .select({ startBlock: ledgerCursors.startBlock })
      .from(ledgerCursors)
      .where(and(eq(ledgerCursors.chainId, this.ledger.chainId), eq(ledgerCursors.address, this.ledger.address)));
    return BigInt(row?.startBlock ?? this.options.startBlock);
  }

  /** The cursor; a contract seen for the first time starts just before its start block. */
  private async readCursor(db: Db | Tx): Promise<Cursor> {
    const [row] = await db
      .select()
      .from(ledgerCursors)
      .where(and(eq(ledgerCursors.chainId, this.ledger.chainId), eq(ledgerCursors.address, this.ledger.address)));
    if (row) return { blockNumber: BigInt(row.blockNumber), blockHash: (row.blockHash as Hex | null) ?? null };
    return { blockNumber: this.options.startBlock - 1n, blockHash: null };
  }

  private async writeCursor(tx: Tx, cursor: Cursor, head: bigint | null): Promise<void> {
    const values = {
      blockNumber: Number(cursor.blockNumber),
      blockHash: cursor.blockHash,
      ...(head === null ? {} : { headBlock: Number(head) }),
      updatedAt: new Date(),
    };
    await tx
      .insert(ledgerCursors)
      .values({ chainId: this.ledger.chainId, address: this.ledger.address, startBlock: Number(this.options.startBlock), ...values })
      .onConflictDoUpdate({ target: [ledgerCursors.chainId, ledgerCursors.address], set: values });
  }

  private async recordError(error: ListenerStatus['lastError']): Promise<void> {
    await this.db
      .update(ledgerCursors)
      .set({ lastError: error?.message ?? null, lastErrorAt: error ? new Date(error.at) : null, failures: error?.failures ?? 0 })
      .where(and(eq(ledgerCursors.chainId, this.ledger.chainId), eq(ledgerCursors.address, this.ledger.address)));
  }

  private async recordHead(head: bigint): Promise<void> {
    await this.db
      .update(ledgerCursors)
      .set({ headBlock: Number(head), updatedAt: new Date() })
      .where(and(eq(ledgerCursors.chainId, this.ledger.chainId), eq(ledgerCursors.address, this.ledger.address)));
  }
}

/** The chain's block at `number`, or null when the chain has none there (only that error; others are thrown). */
async function blockOrNull(client: ChainClient, number: bigint) {
  try {
    return await client.getBlock({ blockNumber: number });
  } catch (error) {
    if (error instanceof BlockNotFoundError) return null;
    throw error;
  }
}

/** Whether a block's logs bloom may hold logs of `address` (the 3 bits of its keccak256, per the yellow paper). */
export function bloomMayContain(bloom: Hex | null, address: string): boolean {
  if (!bloom) return true;
  const bits = hexToBytes(bloom);
  const hash = hexToBytes(keccak256(address.toLowerCase() as Hex));
  for (let pair = 0; pair < 6; pair += 2) {
    const bit = ((hash[pair]! << 8) | hash[pair + 1]!) & 2047;
    if ((bits[255 - (bit >> 3)]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

function sameCursor(a: Cursor, b: Cursor): boolean {
  return a.blockNumber === b.blockNumber && a.blockHash === b.blockHash;
}
