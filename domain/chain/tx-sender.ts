// Idempotent chain writes. Each write has a deterministic key (e.g. `mint:<partId>`); the signed
// transaction is stored under that key BEFORE it is broadcast. A retried activity therefore finds
// its earlier transaction and waits for it (or re-broadcasts the very same bytes) instead of sending
// a second one; only when the earlier transaction provably did not land, and the effect is not
// already on chain, does it sign a new one.
import { eq } from 'drizzle-orm';
import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  ExecutionRevertedError,
  keccak256,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
} from 'viem';
import type { Abi, Address, Hex, LocalAccount, Log, TransactionReceipt } from 'viem';
import type { Db } from '../../db/client.js';
import { chainTxs } from '../../db/schema.js';
import type { ChainConnection } from './connection.js';
import { nonceRefusalOf } from './chain-errors.js';

export interface ChainWrite {
  /** Deterministic idempotency key: the same logical write always has the same key. */
  key: string;
  /** The part and step that make the write, so ops can see a failed step's transaction. */
  origin?: { partId: string; stepId: string };
  account: LocalAccount;
  to: Address;
  data: Hex;
  /** Wei sent with the call. */
  value?: bigint;
  /** The contract's ABI, to name its custom errors when the call would revert. */
  abi?: Abi;
  /** True when the write's effect is already on chain (checked before any new transaction). */
  isDone: () => Promise<boolean>;
}

export interface ChainWriteResult {
  /** The transaction that made the change; null when the effect was found on chain already. */
  txHash: Hex | null;
  blockNumber: bigint | null;
  /** True when no transaction of ours was needed (or known) for the effect. */
  alreadyDone: boolean;
  /** The logs of our transaction (for the SQL mirror); empty when there was none. */
  logs: Log[];
}

/** Gas limit as a percentage of the estimate. */
const GAS_MARGIN_PERCENT = 150n;

/** A custom error of an ABI (viem exports no name for it). */
export type AbiError = Extract<Abi[number], { type: 'error' }>;

/** viem types the decoding entry as any ABI item; a revert's is an error. */
const errorItem = (item: Abi[number] | undefined): AbiError | undefined => (item?.type === 'error' ? item : undefined);

/** The call would revert (found when simulating it before sending); names the contract error. */
export class ContractRevertError extends Error {
  override name = 'ContractRevertError';
  constructor(
    message: string,
    readonly errorName: string | undefined,
    readonly args: readonly unknown[] = [],
    /** The ABI entry viem decoded it with (the contract's, or Solidity's own Error/Panic). */
    readonly abiItem?: AbiError,
  ) {
    super(message);
  }

  /** Decodes a revert out of a viem error, with the contract's ABI when given; undefined if none. */
  static from(error: unknown, abi?: Abi): ContractRevertError | undefined {
    if (!(error instanceof BaseError)) return undefined;
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) {
      const { errorName, args = [], abiItem } = reverted.data;
      return new ContractRevertError(`reverted with ${errorName}(${args.join(', ')})`, errorName, args, errorItem(abiItem));
    }
    const raw = error.walk((e) => typeof (e as { data?: unknown }).data === 'string') as { data?: Hex } | null;
    if (raw?.data && abi) {
      try {
        const decoded = decodeErrorResult({ abi, data: raw.data });
        return new ContractRevertError(
          `reverted with ${decoded.errorName}(${(decoded.args ?? []).join(', ')})`,
          decoded.errorName,
          decoded.args ?? [],
          errorItem(decoded.abiItem),
        );
      } catch {
        // not one of this contract's errors: fall through
      }
    }
    // A revert without data viem could decode (e.g. a bare `revert()`): viem's typed node error says so.
    if (error.walk((e) => e instanceof ExecutionRevertedError || e instanceof ContractFunctionRevertedError))
      return new ContractRevertError(`reverted: ${error.shortMessage}`, undefined);
    return undefined;
  }
}

/** The transaction was mined but reverted. */
export class TransactionRevertedError extends Error {
  override name = 'TransactionRevertedError';
  constructor(readonly txHash: Hex) {
    super(`transaction ${txHash} reverted`);
  }
}

type StoredTx = typeof chainTxs.$inferSelect;

const NOTHING_SENT: ChainWriteResult = Object.freeze({ txHash: null, blockNumber: null, alreadyDone: true, logs: [] });

function mined(receipt: TransactionReceipt): ChainWriteResult {
  return { txHash: receipt.transactionHash, blockNumber: receipt.blockNumber, alreadyDone: false, logs: receipt.logs };
}

export class TxSender {
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Next nonce per sender, while this process is the one sending for it. */
  private readonly nonces = new Map<string, number>();

  constructor(
    private readonly db: Db,
    private readonly chain: ChainConnection,
    private readonly receiptTimeoutMs = 60_000,
  ) {}

  async send(write: ChainWrite): Promise<ChainWriteResult> {
    const [stored] = await this.db.select().from(chainTxs).where(eq(chainTxs.key, write.key));
    if (stored && stored.chainId === this.chain.chainId) {
      const receipt = await this.settle(stored);
      if (receipt?.status === 'success') return mined(receipt);
      if (await write.isDone()) return NOTHING_SENT;
      // Reverted or lost: send anew. Preparing it simulates the call first, so a revert that would
      // happen again fails here, decoded, without spending gas.
    } else if (await write.isDone()) {
      return NOTHING_SENT;
    }
    const receipt = await this.signAndSend(write);
    if (receipt.status === 'reverted') throw new TransactionRevertedError(receipt.transactionHash);
    return mined(receipt);
  }

  /**
   * Brings a remembered transaction to a conclusion: its receipt, or null when it is gone for good
   * (never broadcast and its nonce since used by another transaction).
   */
  private async settle(stored: StoredTx): Promise<TransactionReceipt | null> {
    const hash = stored.txHash as Hex;
    const client = this.chain.client;
    const known = await this.findReceipt(hash);
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
        if (!nonceRefusalOf(error)) throw error;
        // Refused for its nonce: unless the node holds these very bytes ("already known"), the nonce
        // went to another transaction.
        if (!(await this.nodeHas(hash))) {
          await this.db.update(chainTxs).set({ status: 'replaced', updatedAt: new Date() }).where(eq(chainTxs.key, stored.key));
          return null;
        }
      }
    }
    return this.remember(stored.key, await this.receipt(hash));
  }

  private async signAndSend(write: ChainWrite): Promise<TransactionReceipt> {
    const client = this.chain.client;
    const address = write.account.address;
    // Gas and fees do not depend on the nonce: work them out before taking this sender's turn.
    const prepared = await client
      .prepareTransactionRequest({
        account: write.account,
        to: write.to,
        data: write.data,
        value: write.value ?? 0n,
        chain: client.chain,
        parameters: ['fees', 'gas', 'type'],
      })
      .catch((error: unknown) => {
        throw ContractRevertError.from(error, write.abi) ?? error;
      });
    // The estimate holds for the state it was made on; by the time the transaction runs, other
    // transactions may have made it dearer (e.g. a balance that went to zero costs 20k gas to set
    // again). Unused gas is refunded, so the margin costs nothing.
    const request = { ...prepared, gas: (prepared.gas! * GAS_MARGIN_PERCENT) / 100n };
    const hash = await this.serialized(address, async () => {
      let nonce = this.nonces.get(address) ?? (await client.getTransactionCount({ address, blockTag: 'pending' }));
      for (let attempt = 1; ; attempt++) {
        const rawTx = await write.account.signTransaction!({ ...request, nonce } as Parameters<
          NonNullable<LocalAccount['signTransaction']>
        >[0]);
        const txHash = keccak256(rawTx);
        const row = {
          key: write.key,
          partId: write.origin?.partId ?? null,
          stepId: write.origin?.stepId ?? null,
          chainId: this.chain.chainId,
          fromAddress: address,
          nonce,
          txHash,
          rawTx,
          status: 'signed' as const,
          blockNumber: null,
          updatedAt: new Date(),
        };
        // Stored before it is broadcast: a retry after a crash anywhere below finds these exact bytes.
        await this.db.insert(chainTxs).values(row).onConflictDoUpdate({ target: chainTxs.key, set: row });
        try {
          await client.sendRawTransaction({ serializedTransaction: rawTx });
          this.nonces.set(address, nonce + 1);
          return txHash;
        } catch (error) {
          const refusal = nonceRefusalOf(error);
          // The node holds these very bytes already (signatures are deterministic): they are sent.
          if (refusal === 'too_low' && (await this.nodeHas(txHash))) {
            this.nonces.set(address, nonce + 1);
            return txHash;
          }
          this.nonces.delete(address);
          // Someone else (another process with this key) used the nonce: take the node's, once.
          if (attempt > 1 || !refusal) throw error;
          nonce = await client.getTransactionCount({ address, blockTag: 'pending' });
        }
      }
    });
    try {
      return this.remember(write.key, await this.receipt(hash));
    } catch (error) {
      // A transaction that never gets mined may have left a nonce gap: ask the node next time.
      this.nonces.delete(address);
      throw error;
    }
  }

  /** The receipt if the transaction is mined, else null. */
  private findReceipt(hash: Hex): Promise<TransactionReceipt | null> {
    return this.chain.client.getTransactionReceipt({ hash }).catch((error: unknown) => {
      if (error instanceof TransactionReceiptNotFoundError) return null;
      throw error;
    });
  }

  /** Whether the node holds the transaction, pending or mined. */
  private async nodeHas(hash: Hex): Promise<boolean> {
    return this.chain.client.getTransaction({ hash }).then(
      () => true,
      (error: unknown) => {
        if (error instanceof TransactionNotFoundError) return false;
        throw error;
      },
    );
  }

  /** The receipt, at once when the node has it (instant-mining dev chains), else when it is mined. */
  private async receipt(hash: Hex): Promise<TransactionReceipt> {
    return (await this.findReceipt(hash)) ?? this.chain.client.waitForTransactionReceipt({ hash, timeout: this.receiptTimeoutMs });
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
