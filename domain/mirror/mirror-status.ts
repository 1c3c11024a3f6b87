// How far the SQL mirror is behind the chain, and the reorganisations it has undone: for ops.
import { and, count, desc, eq, max } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { ledgerCursors, ledgerEvents, ledgerReorgs } from '../../db/schema.js';
import type { ChainClient } from '../chain/connection.js';
import type { LedgerRef } from './event-log.js';

export interface MirrorStatus {
  ledger: LedgerRef;
  /** The last block mirrored (null before the listener's first pass). */
  cursor: { blockNumber: number; blockHash: string | null; updatedAt: string } | null;
  /** The chain head now; null when the node does not answer (see `lastError`). */
  head: number | null;
  /** Blocks on chain the mirror has not read yet (confirmations included). */
  blocksBehind: number | null;
  events: number;
  lastMirroredAt: string | null;
  reorgs: { fromBlock: number; toBlock: number; removedEvents: number; detectedAt: string }[];
  /** The listener's last failed pass, until one succeeds again (recorded by whichever process runs it). */
  lastError: { message: string; at: string | null; failures: number } | null;
  /** Why `head` is null. */
  chainError?: string;
}

export async function mirrorStatus(db: Db, client: ChainClient, ledger: LedgerRef): Promise<MirrorStatus> {
  const ours = and(eq(ledgerEvents.chainId, ledger.chainId), eq(ledgerEvents.address, ledger.address));
  const [[cursor], [totals], reorgs, head] = await Promise.all([
    db
      .select()
      .from(ledgerCursors)
      .where(and(eq(ledgerCursors.chainId, ledger.chainId), eq(ledgerCursors.address, ledger.address))),
    db
      .select({ events: count(), last: max(ledgerEvents.mirroredAt) })
      .from(ledgerEvents)
      .where(ours),
    db
      .select()
      .from(ledgerReorgs)
      .where(and(eq(ledgerReorgs.chainId, ledger.chainId), eq(ledgerReorgs.address, ledger.address)))
      .orderBy(desc(ledgerReorgs.id))
      .limit(10),
    client.getBlockNumber({ cacheTime: 0 }).catch((error: Error) => error),
  ]);
  const headBlock = head instanceof Error ? null : Number(head);
  return {
    ledger,
    cursor: cursor ? { blockNumber: cursor.blockNumber, blockHash: cursor.blockHash, updatedAt: cursor.updatedAt.toISOString() } : null,
    head: headBlock,
    blocksBehind: cursor && headBlock !== null ? Math.max(0, headBlock - cursor.blockNumber) : null,
    events: totals?.events ?? 0,
    lastMirroredAt: totals?.last ? new Date(totals.last).toISOString() : null,
    lastError: cursor?.lastError
      ? { message: cursor.lastError, at: cursor.lastErrorAt?.toISOString() ?? null, failures: cursor.failures }
      : null,
    ...(head instanceof Error ? { chainError: head.message.split('\n')[0]! } : {}),
    reorgs: reorgs.map((reorg) => ({
      fromBlock: reorg.fromBlock,
      toBlock: reorg.toBlock,
      removedEvents: reorg.removedEvents,
      detectedAt: reorg.detectedAt.toISOString(),
    })),
  };
}
