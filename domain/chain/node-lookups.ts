// What the node says about one transaction: its receipt, whether it holds it at all, and a
// broadcast that tells "the node already has these bytes" apart from "the nonce went elsewhere".
import { TransactionNotFoundError, TransactionReceiptNotFoundError } from 'viem';
import type { Hex, TransactionReceipt } from 'viem';
import type { ChainClient } from './connection.js';
import { nonceRefusalOf } from './chain-errors.js';

/** The receipt if the transaction is mined on the node's canonical chain, else null. */
export function receiptOrNull(client: ChainClient, hash: Hex): Promise<TransactionReceipt | null> {
  return client.getTransactionReceipt({ hash }).catch((error: unknown) => {
    if (error instanceof TransactionReceiptNotFoundError) return null;
    throw error;
  });
}

/** Whether the node holds the transaction, pending or mined. */
export function nodeHas(client: ChainClient, hash: Hex): Promise<boolean> {
  return client.getTransaction({ hash }).then(
    () => true,
    (error: unknown) => {
      if (error instanceof TransactionNotFoundError) return false;
      throw error;
    },
  );
}

/**
 * `accepted`: the node took the bytes (or holds them already); `nonce_used`: another transaction has
 * its nonce; `nonce_ahead`: a lower nonce is missing (a node that queues such transactions accepts
 * them instead). Any other refusal is thrown.
 */
export type BroadcastOutcome = 'accepted' | 'nonce_used' | 'nonce_ahead';

export async function broadcastRaw(client: ChainClient, rawTx: Hex, hash: Hex): Promise<BroadcastOutcome> {
  try {
    await client.sendRawTransaction({ serializedTransaction: rawTx });
    return 'accepted';
  } catch (error) {
    const refusal = nonceRefusalOf(error);
    if (!refusal) {
      if (await nodeHas(client, hash)) return 'accepted';
      throw error;
    }
    if (refusal === 'too_high') return 'nonce_ahead';
    // viem reads "already known" as a low nonce too: the node holding these bytes tells them apart.
    return (await nodeHas(client, hash)) ? 'accepted' : 'nonce_used';
  }
}
