// How far the SQL mirror is behind the chain, and the reorganisations it has undone: for ops.
import { and, count, desc, eq, max } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { ledgerCursors, ledgerEvents, ledgerReorgs } from '../db/schema.js';
import type { ChainClient } from './chain.js';
import type { LedgerRef } from './event-log.js';

export interface MirrorStatus {
  ledger: LedgerRef;
  /** The last block mirrored (null before the listener's first pass). */
  cursor: { blockNumber: number; blockHash: string | null; updatedAt: string } | null;
  head: number;
  /** Blocks on chain the mirror has not read yet (confirmations included). */
  blocksBehind: number | null;
  events: number;
  lastMirroredAt: string | null;
  reorgs: { fromBlock: number; toBlock: number; removedEvents: number; detectedAt: string }[];
}

export async function mirrorStatus(db: Db, client: ChainClient, ledger: LedgerRef): Promise<MirrorStatus> {
  const ours = and(eq(ledgerEvents.chainId, ledger.chainId), eq(ledgerEvents.address, ledger.address));
  const [[cursor], [totals], reorgs, head] = await Promise.all([
    db.select().from(ledgerCursors).where(and(eq(ledgerCursors.chainId, ledger.chainId), eq(ledgerCursors.address, ledger.address))),
    db.select({ events: count(), last: max(ledgerEvents.mirroredAt) }).from(ledgerEvents).where(ours),
    db
      .select()
      .from(ledgerReorgs)
      .where(and(eq(ledgerReorgs.chainId, ledger.chainId), eq(ledgerReorgs.address, ledger.address)))
      .orderBy(desc(ledgerReorgs.id))
      .limit(10),
    client.getBlockNumber({ cacheTime: 0 }),
  ]);
  return {
    ledger,
    cursor: cursor ? { blockNumber: cursor.blockNumber, blockHash: cursor.blockHash, updatedAt: cursor.updatedAt.toISOString() } : null,
    head: Number(head),
    blocksBehind: cursor ? Math.max(0, Number(head) - cursor.blockNumber) : null,
    events: totals?.events ?? 0,
    lastMirroredAt: totals?.last ? new Date(totals.last).toISOString() : null,
    reorgs: reorgs.map((reorg) => ({ fromBlock: reorg.fromBlock, toBlock: reorg.toBlock, removedEvents: reorg.removedEvents, detectedAt: reorg.detectedAt.toISOString() })),
  };
}
