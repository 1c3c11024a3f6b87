// Anchors the mirror's hash-chain head on chain. The hash chain shows a row edited alone, but a writer
// who recomputes every later hash leaves a consistent chain; the head recorded on chain (which SQL
// cannot rewrite) is what such a chain no longer matches. The head after sequence number `seq` is
// recorded with the contract's own anchoring call, `recordEvent`, on a part kept for the purpose
// (registered by the registrar, who holds it): `eventType` is the sequence number as bytes32 and
// `eventHash` the head. `verify` reads these logs back from the chain (verify-anchor.ts).
import { setTimeout as delay } from 'node:timers/promises';
import { and, arrayContains, count, desc, eq, gt, min, not } from 'drizzle-orm';
import { toHex, zeroHash } from 'viem';
import type { Hex, LocalAccount } from 'viem';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import type { Db } from '../../db/client.js';
import { ledgerEvents, mirrorAnchors } from '../../db/schema.js';
import { tokenIdOf } from '../chain/part-registry.js';
import type { PartRegistry } from '../chain/part-registry.js';
import type { TxSender } from '../chain/tx-sender.js';
import { lastEvent } from './event-log.js';
import type { LedgerRef } from './event-log.js';

/**
 * The part whose recorded events are the mirror's anchors: one per chain and contract, as parts of
 * one database are (one database may mirror several chains, and its custody rows name parts by id).
 */
export function anchorPartId(ledger: LedgerRef): string {
  return `tracewell:mirror-head:${ledger.chainId}:${ledger.address.toLowerCase()}`;
}

export function anchorTokenId(ledger: LedgerRef): bigint {
  return tokenIdOf(anchorPartId(ledger));
}

/** The `eventType` an anchor carries: the sequence number it anchors, as bytes32. */
export function anchorEventType(seq: number): Hex {
  return toHex(seq, { size: 32 });
}

export interface AnchorSchedule {
  /** Anchor once this many events (other than anchors) were mirrored since the last anchor; 0: never by count. */
  everyEvents: number;
  /** Anchor once this long passed since the last anchor (or the first event, before any), when any event came meanwhile; 0: never by time. */
  everyMs: number;
}

export interface AnchorerDeps {
  db: Db;
  ledger: LedgerRef;
  registry: PartRegistry;
  txSender: TxSender;
  /** The registrar's account: it registers the anchor part and so may record on it. */
  account: LocalAccount;
  log?: (line: string) => void;
}

export type AnchorRow = typeof mirrorAnchors.$inferSelect;

export class MirrorAnchorer {
  private loop?: Promise<void>;
  private stopping?: AbortController;

  constructor(
    private readonly deps: AnchorerDeps,
    private readonly schedule: AnchorSchedule,
  ) {}

  /** The latest anchor this mirror recorded (from SQL: for pacing only). */
  async latest(): Promise<AnchorRow | undefined> {
    const { db, ledger } = this.deps;
    const [row] = await db
      .select()
      .from(mirrorAnchors)
      .where(and(eq(mirrorAnchors.chainId, ledger.chainId), eq(mirrorAnchors.address, ledger.address)))
      .orderBy(desc(mirrorAnchors.seq))
      .limit(1);
    return row;
  }

  /**
   * Anchors the current head when the schedule says it is due (or `force`), and when any event other
   * than an anchor's own came since the last anchor (anchoring makes events: without that check an
   * idle mirror would anchor its own anchors forever). Returns the new anchor, if one was made.
   */
  async anchorOnce(force = false): Promise<AnchorRow | undefined> {
    const { db, ledger, registry, txSender, account } = this.deps;
    const partId = anchorPartId(ledger);
    const last = await lastEvent(db, ledger);
    if (!last) return undefined;
    const previous = await this.latest();
    if (previous && previous.seq >= last.id) return undefined;
    const [news] = await db
      .select({ n: count(), since: min(ledgerEvents.mirroredAt) })
      .from(ledgerEvents)
      .where(
        and(
          eq(ledgerEvents.chainId, ledger.chainId),
          eq(ledgerEvents.address, ledger.address),
          gt(ledgerEvents.id, previous?.seq ?? 0),
          not(arrayContains(ledgerEvents.partIds, [partId])),
        ),
      );
    const pending = news?.n ?? 0;
    if (pending === 0) return undefined;
    const { everyEvents, everyMs } = this.schedule;
    const due =
      force ||
      (everyEvents > 0 && pending >= everyEvents) ||
      (everyMs > 0 && Date.now() - (previous?.anchoredAt ?? news!.since!).getTime() >= everyMs);
    if (!due) return undefined;

    const to = registry.address;
    const tokenId = tokenIdOf(partId);
    await txSender.send({
      key: `mirror-anchor-part:${ledger.chainId}:${ledger.address}`,
      account,
      to,
      data: registry.registerCall(partId, zeroHash, []),
      abi: partRegistryAbi,
      isDone: () => registry.exists(tokenId),
    });
    const head = last.hash as Hex;
    const written = await txSender.send({
      key: `mirror-anchor:${ledger.chainId}:${ledger.address}:${last.id}`,
      account,
      to,
      data: registry.recordEventCall(tokenId, anchorEventType(last.id), head),
      abi: partRegistryAbi,
      isDone: () => registry.isRecorded(tokenId, head),
    });
    const [row] = await db
      .insert(mirrorAnchors)
      .values({
        chainId: ledger.chainId,
        address: ledger.address,
        seq: last.id,
        head,
        txHash: written.txHash,
        blockNumber: written.blockNumber === null ? null : Number(written.blockNumber),
      })
      .onConflictDoNothing()
      .returning();
    if (row)
      this.deps.log?.(`mirror head anchored on chain: seq ${row.seq}, head ${head.slice(0, 12)}…, tx ${row.txHash ?? '(found on chain)'}`);
    return row;
  }

  /** Checks every `pollMs` whether an anchor is due, until stopped; a failed attempt is retried at the next check. */
  start(pollMs = 5_000): void {
    if (this.loop || (this.schedule.everyEvents === 0 && this.schedule.everyMs === 0)) return;
    const stopping = (this.stopping = new AbortController());
    this.loop = (async () => {
      while (!stopping.signal.aborted) {
        try {
          await this.anchorOnce();
        } catch (error) {
          this.deps.log?.(`mirror anchoring failed (retrying in ${pollMs} ms): ${(error as Error).message.split('\n')[0]}`);
        }
        await delay(pollMs, undefined, { signal: stopping.signal }).catch(() => undefined);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping?.abort();
    await this.loop;
    this.loop = undefined;
  }
}
