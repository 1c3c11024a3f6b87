// verify's check of the steps' own transactions: every transaction a step recorded (its step run's
// hash, a chain_txs row made for the part and step, or the transaction carrying one of its intents)
// must be on chain, successful, in the block recorded for it. The mirror can match the chain while a
// step's write is gone (a node that lost blocks, a deep reorganisation): this is what notices.
import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { Hex } from 'viem';
import type { Db } from '../../db/client.js';
import { chainIntents, chainTxs, stepRuns } from '../../db/schema.js';
import type { ChainClient } from '../chain/connection.js';
import { receiptOrNull } from '../chain/node-lookups.js';
import type { Drift } from './drift.js';

interface Recorded {
  partId: string;
  stepId: string;
  txHash: string;
  /** The block recorded for it (chain_txs), when one is. */
  blockHash: string | null;
  blockNumber: string | null;
  /** Recorded `lost`, or an attempt another one replaced: neither can be on chain. */
  lost: boolean;
  status: string;
}

const CONCURRENCY = 16;

/** Reports each step transaction not on chain as drift; returns how many it checked. */
export async function stepTransactionDrift(db: Db, client: ChainClient, chainId: number, report: (drift: Drift) => void): Promise<number> {
  const recorded = await recordedStepTransactions(db, chainId);
  let next = 0;
  const check = async () => {
    while (next < recorded.length) {
      const item = recorded[next++]!;
      const problem = await problemOf(client, item);
      if (problem)
        report({
          kind: 'step_tx_missing',
          partId: item.partId,
          stepId: item.stepId,
          blockNumber: Number(item.blockNumber ?? -1),
          logIndex: -1,
          txHash: item.txHash,
          message: `step ${item.stepId} of part ${item.partId}: transaction ${item.txHash} ${problem}`,
        });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, recorded.length) }, check));
  return recorded.length;
}

async function problemOf(client: ChainClient, item: Recorded): Promise<string | undefined> {
  if (item.lost) return `is recorded ${item.status} (its nonce went to another transaction): not on chain`;
  const receipt = await receiptOrNull(client, item.txHash as Hex);
  if (!receipt) return `is not on chain${item.blockNumber ? ` (recorded in block ${item.blockNumber})` : ''}`;
  if (receipt.status !== 'success') return `reverted in block ${receipt.blockNumber}`;
  if (item.blockHash && item.blockHash.toLowerCase() !== receipt.blockHash.toLowerCase())
    return `is in block ${receipt.blockNumber} (${receipt.blockHash}), not in the block recorded for it (${item.blockNumber}, ${item.blockHash})`;
  return undefined;
}

/** Every (part, step, transaction) recorded, once each; chain_txs' block where it has one. */
async function recordedStepTransactions(db: Db, chainId: number): Promise<Recorded[]> {
  const byKey = new Map<string, Recorded>();
  const add = (item: Recorded) => {
    const key = `${item.partId}\u0000${item.stepId}\u0000${item.txHash.toLowerCase()}`;
    const seen = byKey.get(key);
    if (!seen || (!seen.blockHash && item.blockHash) || item.lost) byKey.set(key, { ...seen, ...item });
  };
  // A step run names only a hash: the chain_txs row that signed it says which chain (and block).
  const steps = await db
    .select({ partId: stepRuns.partId, stepId: stepRuns.stepId, tx: chainTxs })
    .from(stepRuns)
    .innerJoin(chainTxs, eq(chainTxs.txHash, stepRuns.txHash))
    .where(and(eq(stepRuns.status, 'succeeded'), eq(chainTxs.chainId, chainId)));
  for (const step of steps) add(fromTx(step.partId, step.stepId, step.tx));
  const counted = inArray(chainTxs.status, ['mined', 'lost']);
  const direct = await db
    .select()
    .from(chainTxs)
    .where(and(eq(chainTxs.chainId, chainId), isNotNull(chainTxs.partId), isNotNull(chainTxs.stepId), counted));
  for (const tx of direct) add(fromTx(tx.partId!, tx.stepId!, tx));
  const carried = await db
    .select({ partId: chainIntents.partId, stepId: chainIntents.stepId, tx: chainTxs })
    .from(chainIntents)
    .innerJoin(chainTxs, eq(chainTxs.key, chainIntents.txKey))
    .where(and(eq(chainIntents.chainId, chainId), isNotNull(chainIntents.partId), isNotNull(chainIntents.stepId), counted));
  for (const row of carried) add(fromTx(row.partId!, row.stepId!, row.tx));
  return [...byKey.values()];
}

function fromTx(partId: string, stepId: string, tx: typeof chainTxs.$inferSelect): Recorded {
  return {
    partId,
    stepId,
    txHash: tx.txHash,
    blockHash: tx.blockHash,
    blockNumber: tx.blockNumber,
    lost: tx.status === 'lost' || tx.status === 'replaced',
    status: tx.status,
  };
}
