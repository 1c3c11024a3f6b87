// The mirror against its latest anchor on chain (anchor.ts records them). The anchor is read from the
// chain's logs, never from SQL: a writer who rewrote rows and every later hash could rewrite a table
// of anchors too, but not the chain.
import { and, eq } from 'drizzle-orm';
import { hexToNumber } from 'viem';
import type { Hex } from 'viem';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import type { Db } from '../../db/client.js';
import { ledgerRemovals } from '../../db/schema.js';
import type { ChainClient } from '../chain/connection.js';
import { anchorTokenId } from './anchor.js';
import type { Drift } from './drift.js';
import type { LedgerRef } from './event-log.js';

/** An anchor as the chain has it. */
export interface ChainAnchor {
  seq: number;
  head: Hex;
  txHash: Hex;
  blockNumber: number;
  logIndex: number;
}

/**
 * The newest anchor on chain for a sequence number at most `atMostSeq`, searched backwards from the
 * chain's head down to `fromBlock`, `span` blocks per request. Anchors of rows a reorganisation removed
 * (their head covers events no longer on chain) are passed over.
 */
export async function latestChainAnchor(
  db: Db,
  client: ChainClient,
  ledger: LedgerRef,
  fromBlock: bigint,
  atMostSeq: number,
  span: number,
): Promise<ChainAnchor | undefined> {
  const removed = new Set(
    (
      await db
        .select({ seq: ledgerRemovals.removedSeq })
        .from(ledgerRemovals)
        .where(and(eq(ledgerRemovals.chainId, ledger.chainId), eq(ledgerRemovals.address, ledger.address)))
    ).map((row) => row.seq),
  );
  const step = BigInt(Math.max(1, span));
  for (let to = await client.getBlockNumber({ cacheTime: 0 }); to >= fromBlock; to -= step) {
    const from = to - step + 1n > fromBlock ? to - step + 1n : fromBlock;
    const logs = await client.getContractEvents({
      address: ledger.address,
      abi: partRegistryAbi,
      eventName: 'PartEventRecorded',
      args: { tokenId: anchorTokenId(ledger) },
      fromBlock: from,
      toBlock: to,
      strict: true,
    });
    const anchors = logs
      .map((log) => ({
        seq: hexToNumber(log.args.eventType),
        head: log.args.eventHash,
        txHash: log.transactionHash,
        blockNumber: Number(log.blockNumber),
        logIndex: log.logIndex,
      }))
      .filter((anchor) => anchor.seq <= atMostSeq && !removed.has(anchor.seq))
      .sort((a, b) => b.blockNumber - a.blockNumber || b.logIndex - a.logIndex);
    if (anchors[0]) return anchors[0];
    if (from === fromBlock) return undefined;
  }
  return undefined;
}

/**
 * Drift when the mirror's head after the anchored row, recomputed from the rows' content, is not the
 * head the chain holds; `recomputed` is undefined when the mirror has no row with that sequence number.
 */
export function anchorDrift(anchor: ChainAnchor, recomputed: string | undefined): Drift | undefined {
  const at = { seq: anchor.seq, blockNumber: anchor.blockNumber, logIndex: anchor.logIndex, txHash: anchor.txHash };
  if (recomputed === undefined)
    return {
      ...at,
      kind: 'anchor_mismatch',
      message: `row ${anchor.seq}, whose head was anchored on chain in block ${anchor.blockNumber}, is not in the mirror: rows were deleted or renumbered`,
    };
  if (recomputed.toLowerCase() === anchor.head.toLowerCase()) return undefined;
  return {
    ...at,
    kind: 'anchor_mismatch',
    message: `the mirror's head after row ${anchor.seq} is ${recomputed.slice(0, 12)}…, but the head anchored on chain in block ${anchor.blockNumber} is ${anchor.head.slice(0, 12)}…: rows up to ${anchor.seq} were rewritten after they were anchored`,
  };
}
