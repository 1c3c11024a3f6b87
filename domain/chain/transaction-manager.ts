// The ledger transaction manager: callers hand it keyed write intents; it stores each durably in
// chain_intents, makes sure some process leads the intent's signer, and answers with the intent's
// outcome. For each signer exactly one leader at a time (a session advisory lock on PostgreSQL, held
// on a connection of its own; in-process on PGlite) assigns nonces, batches and sends (see
// signer-leader.ts). A leader's process that dies ends its session, the lock frees, and any process
// still waiting for that signer's intents takes over from what SQL holds.
import { keccak256, stringToBytes, hexToBigInt } from 'viem';
import type { Address, Hex, LocalAccount, Log } from 'viem';
import type { Db, HeldLock } from '../../db/client.js';
import type { ChainConnection } from './connection.js';
import { findIntent, findTx, insertIntent, requeueFailed } from './chain-intents.js';
import type { IntentError, IntentRow } from './chain-intents.js';
import { ChainUnavailableError, classifyChainError } from './chain-errors.js';
import { SignerLeader } from './signer-leader.js';
import type { LedgerSettings, SignerHook } from './signer-leader.js';
import { ContractRevertError, TransactionRevertedError } from './tx-sender.js';
import { healEachTick } from './stuck-transactions.js';
import type { ChainWrite, ChainWriteResult, TxSender } from './tx-sender.js';

export type { LedgerSettings, SignerHook, SignerTick } from './signer-leader.js';

export interface TransactionManagerOptions {
  db: Db;
  /** Where signer locks come from (the Database of db/client.ts). */
  locks: { tryHoldAdvisoryLock(key: bigint): Promise<HeldLock | null> };
  chain: ChainConnection;
  /** The PartRegistry, whose calls are batched; absent (deploying it) nothing is batched. */
  registry?: Address;
  settings: LedgerSettings;
  /** Runs once per leader tick for the signer; default: `healEachTick` (stuck, dropped, gaps). */
  hook?: SignerHook;
  /** A submitter gives up waiting after this long (a retried activity waits again, sending nothing new). */
  waitTimeoutMs?: number;
  log?: (line: string) => void;
}

/** The defaults when no configuration gives any (tests, tools). */
export const DEFAULT_LEDGER_SETTINGS: LedgerSettings = { batchMaxItems: 100, batchWaitMs: 50, confirmations: 0, stuckAfterMs: 60_000 };

/** How often a submitter looks at its intent in SQL (its leader may be another process). */
const POLL_MS = 200;
/** How often a process without the lead tries to take it while it waits for the signer's intents. */
const TAKEOVER_RETRY_MS = 500;
/** A leader with nothing to do keeps the lock this long (so a burst of writes does not reconnect each time). */
const LINGER_MS = 2_000;
/** Pause between ticks while transactions are in flight (receipts are polled). */
const IN_FLIGHT_TICK_MS = 25;

const NOTHING_SENT: ChainWriteResult = Object.freeze({ txHash: null, blockNumber: null, alreadyDone: true, logs: [] });

/** Raised when an intent did not settle in time: retryable; the retry waits for the same intent. */
export class IntentPendingError extends Error {
  override name = 'IntentPendingError';
}

export class TransactionManager implements TxSender {
  private readonly accounts = new Map<string, LocalAccount>();
  private readonly leaders = new Map<string, Promise<void>>();
  private readonly wakeLeader = new Map<string, () => void>();
  /** Signers whose local submitters queued work since their leader's tick began. */
  private readonly poked = new Set<string>();
  private readonly lastTakeover = new Map<string, number>();
  private readonly waiters = new Map<string, Set<(logs?: Log[]) => void>>();
  /** The chain outage this process's leader of a signer last met (cleared by its next good tick). */
  private readonly outages = new Map<string, ChainUnavailableError>();
  private closed = false;
  /** Stuck, dropped and gap healing for each signer this process leads, unless a test gives its own. */
  private readonly hook: SignerHook;

  constructor(private readonly options: TransactionManagerOptions) {
    this.hook = options.hook ?? healEachTick((line) => this.log(line));
  }

  get settings(): LedgerSettings {
    return this.options.settings;
  }

  async send(write: ChainWrite): Promise<ChainWriteResult> {
    const { db, chain } = this.options;
    const signer = write.account.address;
    this.accounts.set(signer, write.account);
    let intent = await findIntent(db, write.key);
    if (intent && intent.chainId !== chain.chainId) {
      // A key names one write on one chain; settling this one by another chain's outcome would lie.
      throw new Error(
        `chain write ${write.key} was recorded on chain ${intent.chainId}, not on this chain (${chain.chainId}): give it a key of its own`,
      );
    }
    if (!intent) {
      const legacy = await findTx(db, write.key);
      // A transaction stored under this key before intents existed (or by a crashed older version): settle it.
      const adopt = legacy && legacy.chainId === chain.chainId && legacy.status !== 'replaced' && legacy.status !== 'lost';
      if (!adopt && (await write.isDone())) return NOTHING_SENT;
      // Reserved before anything is signed: a concurrent twin with the same key finds this row and waits for it.
      await insertIntent(db, {
        key: write.key,
        chainId: chain.chainId,
        signer,
        toAddress: write.to,
        data: write.data,
        value: (write.value ?? 0n).toString(),
        partId: write.origin?.partId ?? null,
        stepId: write.origin?.stepId ?? null,
        batchable: write.batchable ?? true,
        status: adopt ? 'sent' : 'queued',
        txKey: adopt ? legacy.key : null,
      });
      intent = (await findIntent(db, write.key))!;
    } else if (intent.status === 'failed' && !(await write.isDone())) {
      // A retried step (or an operator's retry): the same intent, queued once more.
      await requeueFailed(db, write.key);
      intent = (await findIntent(db, write.key))!;
    }
    return this.outcome(write, await this.settledIntent(intent));
  }

  /** Waits until the intent is done or failed, leading its signer when no one else does. */
  private async settledIntent(start: IntentRow): Promise<IntentRow & { logs?: Log[] }> {
    const deadline = Date.now() + (this.options.waitTimeoutMs ?? 60_000);
    let intent: IntentRow | undefined = start;
    let logs: Log[] | undefined;
    while (intent && intent.status !== 'done' && intent.status !== 'failed') {
      if (Date.now() > deadline) throw new IntentPendingError(`chain write ${start.key} is still ${intent.status}; waiting again on retry`);
      // The node is down: say so now, as a lone send would (the intent stays; a retry waits for it again).
      const outage = this.outages.get(intent.signer);
      if (outage) throw outage;
      this.lead(intent.signer);
      const notified = await this.notification(intent.key, POLL_MS);
      if (notified) logs = notified.logs;
      intent = await findIntent(this.options.db, start.key);
    }
    if (!intent) throw new Error(`chain write ${start.key} vanished from chain_intents`);
    return { ...intent, logs };
  }

  private async outcome(write: ChainWrite, intent: IntentRow & { logs?: Log[] }): Promise<ChainWriteResult> {
    if (intent.status === 'failed') {
      if (await write.isDone()) return NOTHING_SENT;
      throw errorOf(intent.error ?? { message: 'failed' }, write);
    }
    if (!intent.txKey) return NOTHING_SENT;
    const tx = (await findTx(this.options.db, intent.txKey))!;
    let logs = intent.logs;
    // A lone write's caller may read its transaction's events (the contract gateway).
    if (!logs && intent.itemIndex === null) {
      logs = (await this.options.chain.client.getTransactionReceipt({ hash: tx.txHash as Hex })).logs;
    }
    return {
      txHash: tx.txHash as Hex,
      blockNumber: tx.blockNumber === null ? null : BigInt(tx.blockNumber),
      alreadyDone: false,
      logs: intent.itemIndex === null ? (logs ?? []) : [],
    };
  }

  /** Resolves when a local leader settles `key` (with its logs), or after `ms`. */
  private notification(key: string, ms: number): Promise<{ logs?: Log[] } | undefined> {
    return new Promise((resolve) => {
      const waiters = this.waiters.get(key) ?? new Set();
      this.waiters.set(key, waiters);
      const done = (logs?: Log[]) => {
        clearTimeout(timer);
        waiters.delete(done);
        if (waiters.size === 0) this.waiters.delete(key);
        resolve(logs === undefined ? { logs: undefined } : { logs });
      };
      const timer = setTimeout(() => {
        waiters.delete(done);
        if (waiters.size === 0) this.waiters.delete(key);
        resolve(undefined);
      }, ms);
      waiters.add(done);
    });
  }

  private settled = (keys: string[], logs?: Log[]): void => {
    for (const key of keys) for (const waiter of [...(this.waiters.get(key) ?? [])]) waiter(logs);
  };

  /** Wakes this process's leader of `signer`, or tries to become it (throttled). */
  private lead(signer: string): void {
    if (this.closed) return;
    this.poked.add(signer);
    this.wakeLeader.get(signer)?.();
    if (this.leaders.has(signer)) return;
    const last = this.lastTakeover.get(signer) ?? 0;
    if (Date.now() - last < TAKEOVER_RETRY_MS) return;
    this.lastTakeover.set(signer, Date.now());
    const running = this.runLeader(signer)
      .catch((error: unknown) => this.log(`ledger: leader of ${signer} stopped: ${(error as Error).message}`))
      .finally(() => this.leaders.delete(signer));
    this.leaders.set(signer, running);
  }

  private async runLeader(signer: string): Promise<void> {
    const account = this.accounts.get(signer);
    if (!account) return;
    const lock = await this.options.locks.tryHoldAdvisoryLock(signerLockKey(this.options.chain.chainId, signer));
    if (!lock) return;
    const leader = new SignerLeader({
      db: this.options.db,
      chain: this.options.chain,
      account,
      registry: this.options.registry,
      settings: this.options.settings,
      hook: this.hook,
      settled: this.settled,
      log: (line) => this.log(line),
    });
    let idleSince = Date.now();
    try {
      while (!this.closed && !lock.lost) {
        let busy: boolean;
        this.poked.delete(signer);
        try {
          busy = await leader.tick();
          this.outages.delete(signer);
        } catch (error) {
          const classified = classifyChainError(error);
          if (classified instanceof ChainUnavailableError) this.outages.set(signer, classified);
          // The node or SQL hiccuped: the state is all stored, the next tick carries on.
          this.log(`ledger: leader of ${signer}: ${(error as Error).message.split('\n')[0]}`);
          busy = true;
          await this.pause(signer, 500);
          continue;
        }
        if (busy) idleSince = Date.now();
        else if (Date.now() - idleSince > LINGER_MS) break;
        await this.pause(signer, busy ? IN_FLIGHT_TICK_MS : POLL_MS);
      }
    } finally {
      this.outages.delete(signer);
      this.wakeLeader.delete(signer);
      await lock.release();
    }
  }

  /** Sleeps up to `ms`, cut short when a local submitter wakes the signer's leader. */
  private pause(signer: string, ms: number): Promise<void> {
    if (this.poked.has(signer) || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const wakeLeader = this.wakeLeader;
      function done() {
        clearTimeout(timer);
        if (wakeLeader.get(signer) === done) wakeLeader.delete(signer);
        resolve();
      }
      wakeLeader.set(signer, done);
    });
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** Stops this process's leaders (their locks are released; another process may take over). */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of this.wakeLeader.values()) wake();
    await Promise.all(this.leaders.values());
  }
}

/** The advisory lock id of a signer on a chain (a signed 64-bit integer, as PostgreSQL takes). */
export function signerLockKey(chainId: number, signer: string): bigint {
  return BigInt.asIntN(64, hexToBigInt(keccak256(stringToBytes(`tracewell:tx-leader:${chainId}:${signer.toLowerCase()}`))));
}

/** The error a failed intent's submitter throws, as the old one-transaction sender threw it. */
function errorOf(error: IntentError, write: ChainWrite): Error {
  if (error.txHash) return new TransactionRevertedError(error.txHash as Hex);
  const decoded = error.data ? ContractRevertError.fromData(error.data as Hex, write.abi) : undefined;
  return decoded ?? new ContractRevertError(error.message, error.name, error.args ?? []);
}
