// What a chain write is, what it answers, and how it fails: the contract between the callers
// (activities, the contract gateway, onboarding, the mirror anchor) and the transaction manager
// (transaction-manager.ts), which makes each keyed write durable, batched and idempotent.
import { BaseError, ContractFunctionRevertedError, decodeErrorResult, ExecutionRevertedError } from 'viem';
import type { Abi, Address, Hex, LocalAccount, Log } from 'viem';

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
  /**
   * False when the caller needs the transaction's own logs (the contract gateway answers with its
   * events): the write then goes in a transaction of its own. Default true.
   */
  batchable?: boolean;
}

export interface ChainWriteResult {
  /** The transaction that made the change; null when the effect was found on chain already. */
  txHash: Hex | null;
  blockNumber: bigint | null;
  /** True when no transaction of ours was needed (or known) for the effect. */
  alreadyDone: boolean;
  /**
   * The logs of our transaction when it carried this write alone; empty when there was none, or when
   * the write rode in a batch (the mirror reads every event from the chain either way).
   */
  logs: Log[];
}

/** Sends keyed chain writes and answers each with its outcome (the transaction manager). */
export interface TxSender {
  send(write: ChainWrite): Promise<ChainWriteResult>;
}

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

  /** Decodes raw revert data with the contract's ABI (Solidity's Error/Panic included); undefined if it cannot. */
  static fromData(data: Hex, abi?: Abi): ContractRevertError | undefined {
    try {
      const decoded = decodeErrorResult({ abi: abi ?? [], data });
      return new ContractRevertError(
        `reverted with ${decoded.errorName}(${(decoded.args ?? []).join(', ')})`,
        decoded.errorName,
        decoded.args ?? [],
        errorItem(decoded.abiItem),
      );
    } catch {
      return undefined;
    }
  }

  /** The revert data a viem error carries, if any. */
  static dataOf(error: unknown): Hex | undefined {
    if (!(error instanceof BaseError)) return undefined;
    const raw = error.walk((e) => typeof (e as { data?: unknown }).data === 'string') as { data?: Hex } | null;
    return raw?.data;
  }

  /** Decodes a revert out of a viem error, with the contract's ABI when given; undefined if none. */
  static from(error: unknown, abi?: Abi): ContractRevertError | undefined {
    if (!(error instanceof BaseError)) return undefined;
    const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError && reverted.data?.errorName) {
      const { errorName, args = [], abiItem } = reverted.data;
      return new ContractRevertError(`reverted with ${errorName}(${args.join(', ')})`, errorName, args, errorItem(abiItem));
    }
    const data = ContractRevertError.dataOf(error);
    // Not one of this contract's errors: fall through.
    const decoded = data && abi ? ContractRevertError.fromData(data, abi) : undefined;
    if (decoded) return decoded;
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
