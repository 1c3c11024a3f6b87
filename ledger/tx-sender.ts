// Idempotent chain writes. Each write has a deterministic key (e.g. `mint:<partId>`); the signed
// transaction is stored under that key BEFORE it is broadcast. A retried activity therefore finds
// its earlier transaction and waits for it (or re-broadcasts the very same bytes) instead of sending
// a second one; only when the earlier transaction provably did not land, and the effect is not
// already on chain, does it sign a new one.
import { eq } from 'drizzle-orm';
import { keccak256, TransactionNotFoundError, TransactionReceiptNotFoundError } from 'viem';
import type { Address, Hex, LocalAccount, TransactionReceipt } from 'viem';
import type { Db } from '../db/client.js';
import { chainTxs } from '../db/schema.js';
import type { ChainConnection } from './chain.js';

export interface ChainWrite {
  /** Deterministic idempotency key: the same logical write always has the same key. */
  key: string;
  account: LocalAccount;
  to: Address;
  data: Hex;
  /** Wei sent with the call. */
  value?: bigint;
  /** True when the write's effect is already on chain (checked before any new transaction). */
  isDone: () => Promise<boolean>;
}

export interface ChainWriteResult {
  /** The transaction that made the change; null when the effect was found on chain already. */
  txHash: Hex | null;
  blockNumber: bigint | null;
  /** True when no transaction of ours was needed (or known) for the effect. */
  alreadyDone: boolean;
}

/** The transaction was mined but reverted. */
export class TransactionRevertedError extends Error {
  override name = 'TransactionRevertedError';
  constructor(readonly txHash: Hex) {
    super(`transaction ${txHash} reverted`);
  }
}

type StoredTx = typeof chainTxs.$inferSelect;

export class TxSender {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly db: Db,
    private readonly chain: ChainConnection,
    private readonly receiptTimeoutMs = 60_000,
  ) {}

  async send(write: ChainWrite): Promise<ChainWriteResult> {
    const [stored] = await this.db.select().from(chainTxs).where(eq(chainTxs.key, write.key));
    if (stored && stored.chainId === this.chain.chainId) {
      const receipt = await this.settle(stored);
      if (receipt?.status === 'success') return { txHash: receipt.transactionHash, blockNumber: receipt.blockNumber, alreadyDone: false };
      if (await write.isDone()) return { txHash: null, blockNumber: null, alreadyDone: true };
      if (receipt?.status === 'reverted') throw new TransactionRevertedError(receipt.transactionHash);
    } else if (await write.isDone()) {
      return { txHash: null, blockNumber: null, alreadyDone: true };
    }
    const receipt = await this.signAndSend(write);
    if (receipt.status === 'reverted') throw new TransactionRevertedError(receipt.transactionHash);
    return { txHash: receipt.transactionHash, blockNumber: receipt.blockNumber, alreadyDone: false };
  }

  /**
   * Brings a remembered transaction to a conclusion: its receipt, or null when it is gone for good
   * (never broadcast and its nonce since used by another transaction).
   */
  private async settle(stored: StoredTx): Promise<TransactionReceipt | null> {
    const hash = stored.txHash as Hex;
    const client = this.chain.client;
    const known = await client.getTransactionReceipt({ hash }).catch((error: unknown) => {
      if (error instanceof TransactionReceiptNotFoundError) return null;
      throw error;
    });
    if (known) return this.remember(stored.key, known);
    const pending = await client.getTransaction({ hash }).catch((error: unknown) => {
      if (error instanceof TransactionNotFoundError) return null;
      throw error;
    });
    if (!pending) {
      // Signed and stored, but the node never saw it: broadcast the same bytes again.
      try {
        await client.sendRawTransaction({ serializedTransaction: stored.rawTx as Hex });
      } catch (error) {
        const message = String((error as Error).message);
        if (!/already known/i.test(message)) {
          // Any other refusal of our own signed bytes means the nonce went to another transaction.
          if (!/nonce/i.test(message)) throw error;
          await this.db.update(chainTxs).set({ status: 'replaced', updatedAt: new Date() }).where(eq(chainTxs.key, stored.key));
          return null;
        }
      }
    }
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: this.receiptTimeoutMs });
    return this.remember(stored.key, receipt);
  }

  private async signAndSend(write: ChainWrite): Promise<TransactionReceipt> {
    const client = this.chain.client;
    const hash = await this.serialized(write.account.address, async () => {
      const nonce = await client.getTransactionCount({ address: write.account.address, blockTag: 'pending' });
      const request = await client.prepareTransactionRequest({
        account: write.account,
        to: write.to,
        data: write.data,
        value: write.value ?? 0n,
        nonce,
        chain: client.chain,
      });
      const rawTx = await write.account.signTransaction!(request as Parameters<NonNullable<LocalAccount['signTransaction']>>[0]);
      const txHash = keccak256(rawTx);
      const row = {
        key: write.key,
        chainId: this.chain.chainId,
        fromAddress: write.account.address,
        nonce,
        txHash,
        rawTx,
        status: 'signed' as const,
        blockNumber: null,
        updatedAt: new Date(),
      };
      await this.db.insert(chainTxs).values(row).onConflictDoUpdate({ target: chainTxs.key, set: row });
      await client.sendRawTransaction({ serializedTransaction: rawTx });
      await this.db.update(chainTxs).set({ status: 'sent', updatedAt: new Date() }).where(eq(chainTxs.key, write.key));
      return txHash;
    });
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: this.receiptTimeoutMs });
    return this.remember(write.key, receipt);
  }

  private async remember(key: string, receipt: TransactionReceipt): Promise<TransactionReceipt> {
    await this.db
      .update(chainTxs)
      .set({
        status: receipt.status === 'success' ? 'mined' : 'reverted',
        blockNumber: receipt.blockNumber.toString(),
        updatedAt: new Date(),
      })
      .where(eq(chainTxs.key, key));
    return receipt;
  }

  /** Runs `task` after every earlier task for the same sender: one nonce is handed out at a time. */
  private serialized<T>(address: string, task: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(address) ?? Promise.resolve();
    const next = previous.then(task, task);
    const tail = next.catch(() => undefined);
    this.queues.set(address, tail);
    void tail.then(() => {
      if (this.queues.get(address) === tail) this.queues.delete(address);
    });
    return next;
  }
}
