// One signer's leader: the only sender of its transactions, whichever process it runs in (the
// transaction manager holds the signer's lock while a SignerLeader ticks). Each tick settles the
// transactions in flight (receipts, re-broadcasts), then takes queued intents, simulates each alone
// (one that would revert fails by itself, decoded), and sends the rest: PartRegistry calls together
// through its batch entry point, anything else one per transaction, all through one nonce sequence.
import { isAddressEqual, keccak256, TransactionNotFoundError, TransactionReceiptNotFoundError } from 'viem';
import type { Address, Hex, LocalAccount, Log, TransactionReceipt } from 'viem';
import type { Db } from '../../db/client.js';
import type { ChainConnection } from './connection.js';
import { nonceRefusalOf } from './chain-errors.js';
import { batchData, failedItems, revertErrorOf } from './batch-calls.js';
import {
  highestStoredNonce,
  markIntents,
  queuedIntents,
  requeueTxIntents,
  storeSignedTx,
  unsettledTxs,
  updateTx,
} from './chain-intents.js';
import type { IntentError, IntentRow, TxRow } from './chain-intents.js';
import { ContractRevertError } from './tx-sender.js';

export interface LedgerSettings {
  /** Most intents in one transaction; 1 sends each alone (the naive mode). */
  batchMaxItems: number;
  /** While fewer are waiting, a partial batch goes out at most once per this many ms. */
  batchWaitMs: number;
  /** Blocks on top of a transaction's block before its intents count as done (0: mined is done). */
  confirmations: number;
  /** A transaction unmined this long counts as stuck (for the heal hook's fee bump). */
  stuckAfterMs: number;
}

/** What the per-tick hook (stuck-transaction healing) is given for one signer. */
export interface SignerTick {
  db: Db;
  chain: ChainConnection;
  chainId: number;
  signer: Address;
  account: LocalAccount;
  settings: LedgerSettings;
}

/** Runs once per leader tick, before settling and sending; heal's healSigner plugs in here. */
export type SignerHook = (tick: SignerTick) => Promise<void>;

export interface SignerLeaderDeps {
  db: Db;
  chain: ChainConnection;
  account: LocalAccount;
  /** The PartRegistry, whose calls are batched; undefined before it is deployed. */
  registry?: Address;
  settings: LedgerSettings;
  hook: SignerHook;
  /** Tells local submitters their intents settled (with the logs of a lone write's transaction). */
  settled: (keys: string[], logs?: Log[]) => void;
  log: (line: string) => void;
}

/** Gas limit as a percentage of the estimate: state may change before it runs; unused gas is refunded. */
const GAS_MARGIN_PERCENT = 150n;
/** Most intents one tick sends when batching is off (each in its own transaction). */
const NAIVE_TAKE = 50;
/** How often a partial batch looks for more intents while it waits (they may come from other processes). */
const FILL_POLL_MS = 50;
/** A whole transaction that reverts (out of gas, say) gives its intents this many tries in all. */
const MAX_INTENT_ATTEMPTS = 3;

type Unsent = { intent: IntentRow; error?: IntentError };

export class SignerLeader {
  private lastSendAt = 0;

  constructor(private readonly deps: SignerLeaderDeps) {}

  private get signer(): Address {
    return this.deps.account.address;
  }

  /** One round; true while the signer has work left (queued, or sent and unsettled). */
  async tick(): Promise<boolean> {
    const { db, chain, account, settings } = this.deps;
    await this.deps.hook({ db, chain, chainId: chain.chainId, signer: this.signer, account, settings });
    const unsettled = await this.settle();
    const { sent, queuedLeft } = await this.sendQueued();
    return unsettled > 0 || sent > 0 || queuedLeft;
  }

  // ---- settling what is in flight -------------------------------------------------------------

  /** Brings each in-flight transaction forward; returns how many are still unsettled. */
  private async settle(): Promise<number> {
    const { db, chain } = this.deps;
    let open = 0;
    let head: bigint | undefined;
    for (const { tx, intents } of await unsettledTxs(db, chain.chainId, this.signer)) {
      // Replaced (a fee bump): heal repoints the intents at the row that now holds the nonce.
      if (tx.status === 'replaced' || tx.status === 'lost') {
        open++;
        continue;
      }
      const receipt = await this.findReceipt(tx.txHash as Hex);
      if (!receipt) {
        if (!(await this.keepAlive(tx))) continue;
        open++;
        continue;
      }
      if (tx.status !== 'mined' && tx.status !== 'reverted') {
        await updateTx(db, tx.key, {
          status: receipt.status === 'success' ? 'mined' : 'reverted',
          blockNumber: receipt.blockNumber.toString(),
          blockHash: receipt.blockHash,
        });
      }
      if (this.deps.settings.confirmations > 0) {
        head ??= await chain.client.getBlockNumber({ cacheTime: 0 });
        if (head < receipt.blockNumber + BigInt(this.deps.settings.confirmations)) {
          open++;
          continue;
        }
      }
      await this.conclude(tx, intents, receipt);
    }
    return open;
  }

  /** A transaction with no receipt: re-broadcast when the node lacks it; false when it is dead. */
  private async keepAlive(tx: TxRow): Promise<boolean> {
    const { db, chain } = this.deps;
    if (tx.status === 'sent' && (await this.nodeHas(tx.txHash as Hex))) return true;
    try {
      await chain.client.sendRawTransaction({ serializedTransaction: tx.rawTx as Hex });
      await updateTx(db, tx.key, { status: 'sent', sentAt: new Date() });
      return true;
    } catch (error) {
      const refusal = nonceRefusalOf(error);
      if (refusal === 'too_low') {
        // The node holds these very bytes ("already known"), or it was mined meanwhile: alive.
        if ((await this.nodeHas(tx.txHash as Hex)) || (await this.findReceipt(tx.txHash as Hex))) return true;
        // Its nonce went to another transaction: it never lands; its intents go back in the queue.
        await updateTx(db, tx.key, { status: 'replaced' });
        await requeueTxIntents(db, tx.key);
        this.deps.log(`ledger: ${tx.key} lost nonce ${tx.nonce} to another transaction; its intents are queued again`);
        return false;
      }
      // A nonce gap ahead of it (heal fills it), or the node is unreachable: try again next tick.
      if (refusal === 'too_high') return true;
      throw error;
    }
  }

  /** Applies a mined transaction's outcome to its intents. */
  private async conclude(tx: TxRow, intents: IntentRow[], receipt: TransactionReceipt): Promise<void> {
    const { db } = this.deps;
    const keys = intents.map((intent) => intent.key);
    if (receipt.status === 'reverted') {
      const tries = intents.filter((intent) => intent.attempts < MAX_INTENT_ATTEMPTS);
      const spent = intents.filter((intent) => intent.attempts >= MAX_INTENT_ATTEMPTS);
      await markIntents(
        db,
        spent.map((intent) => intent.key),
        'failed',
        { message: `transaction ${tx.txHash} reverted`, txHash: tx.txHash },
      );
      // Simulated fine but reverted as a whole (e.g. out of gas): simulate and send again.
      if (tries.length > 0) await requeueTxIntents(db, tx.key);
      this.deps.settled(spent.map((intent) => intent.key));
      return;
    }
    const batched = intents.some((intent) => intent.itemIndex !== null);
    const failed = batched && this.deps.registry ? failedItems(this.deps.registry, receipt.logs) : new Map<number, Hex>();
    const done = intents.filter((intent) => intent.itemIndex === null || !failed.has(intent.itemIndex));
    await markIntents(
      db,
      done.map((intent) => intent.key),
      'done',
    );
    for (const intent of intents.filter((i) => i.itemIndex !== null && failed.has(i.itemIndex))) {
      await markIntents(db, [intent.key], 'failed', revertErrorOf(failed.get(intent.itemIndex!), 'reverted in its batch'));
    }
    this.deps.settled(keys, batched ? undefined : receipt.logs);
  }

  // ---- sending what is queued -----------------------------------------------------------------

  /** Sends queued intents: how many transactions went out, and whether more are queued. */
  private async sendQueued(): Promise<{ sent: number; queuedLeft: boolean }> {
    const { db, chain, settings } = this.deps;
    // Unbatched (the naive mode), each intent still goes in a transaction of its own, many per tick.
    const batching = settings.batchMaxItems > 1;
    const take = batching ? settings.batchMaxItems : NAIVE_TAKE;
    let queued = await queuedIntents(db, chain.chainId, this.signer, take);
    if (queued.length === 0) return { sent: 0, queuedLeft: false };
    // A partial batch waits for company (going as soon as it is full), but an isolated write goes at once.
    for (;;) {
      const due = this.lastSendAt + settings.batchWaitMs - Date.now();
      if (!batching || queued.length >= take || due <= 0) break;
      await sleep(Math.min(due, FILL_POLL_MS));
      queued = await queuedIntents(db, chain.chainId, this.signer, take);
    }
    this.lastSendAt = Date.now();
    const checked = await Promise.all(queued.map((intent) => this.simulate(intent)));
    for (const { intent, error } of checked.filter((c) => c.error)) {
      await markIntents(db, [intent.key], 'failed', error);
      this.deps.settled([intent.key]);
    }
    const passing = checked.filter((c) => !c.error).map((c) => c.intent);
    const batchable = passing.filter((intent) => intent.batchable && this.isRegistry(intent.toAddress));
    const alone = passing.filter((intent) => !batchable.includes(intent));
    const groups: IntentRow[][] = [...(batchable.length > 0 ? [batchable] : []), ...alone.map((intent) => [intent])];

    let nonce = await this.nextNonce();
    let sent = 0;
    for (const group of groups) {
      const outcome = await this.sendGroup(group, nonce);
      if (outcome === 'stop') break;
      if (outcome === 'sent') {
        nonce++;
        sent++;
      }
    }
    return { sent, queuedLeft: queued.length === take };
  }

  /** Runs the intent's call alone from the signer; an error when it would revert. */
  private async simulate(intent: IntentRow): Promise<Unsent> {
    try {
      await this.deps.chain.client.call({
        account: this.signer,
        to: intent.toAddress as Address,
        data: intent.data as Hex,
        value: BigInt(intent.value),
      });
      return { intent };
    } catch (error) {
      const reverted = asRevert(error, intent.toAddress, this.deps.registry);
      if (!reverted) throw error;
      return { intent, error: reverted };
    }
  }

  /** max(the node's pending count, the highest stored nonce + 1): a stored, unsent transaction keeps its nonce. */
  private async nextNonce(): Promise<number> {
    const { db, chain } = this.deps;
    const [pending, stored] = await Promise.all([
      chain.client.getTransactionCount({ address: this.signer, blockTag: 'pending' }),
      highestStoredNonce(db, chain.chainId, this.signer),
    ]);
    return Math.max(pending, stored === null ? 0 : stored + 1);
  }

  /** Signs, stores and broadcasts one transaction for `group`. */
  private async sendGroup(group: IntentRow[], nonce: number): Promise<'sent' | 'skipped' | 'stop'> {
    const { db, chain, account } = this.deps;
    const batched = group.length > 1;
    const first = group[0]!;
    const call = batched
      ? { to: this.deps.registry!, data: batchData(group.map((intent) => intent.data as Hex)), value: 0n }
      : { to: first.toAddress as Address, data: first.data as Hex, value: BigInt(first.value) };
    let prepared;
    try {
      prepared = await chain.client.prepareTransactionRequest({
        account,
        ...call,
        chain: chain.client.chain,
        parameters: ['fees', 'gas', 'type'],
      });
    } catch (error) {
      // State changed since the simulation (a lone call only: a batch does not revert).
      const reverted = batched ? undefined : asRevert(error, first.toAddress, this.deps.registry);
      if (!reverted) throw error;
      await markIntents(db, [first.key], 'failed', reverted);
      this.deps.settled([first.key]);
      return 'skipped';
    }
    const request = { ...prepared, gas: (prepared.gas! * GAS_MARGIN_PERCENT) / 100n, nonce };
    const rawTx = await account.signTransaction!(request as Parameters<NonNullable<LocalAccount['signTransaction']>>[0]);
    const txHash = keccak256(rawTx);
    const key = batched ? `batch:${chain.chainId}:${this.signer}:${nonce}:1` : first.key;
    await storeSignedTx(
      db,
      {
        key,
        partId: batched ? null : first.partId,
        stepId: batched ? null : first.stepId,
        chainId: chain.chainId,
        fromAddress: this.signer,
        nonce,
        txHash,
        rawTx,
        status: 'signed',
        blockNumber: null,
        items: group.length,
        attempts: 1,
        maxFeePerGas: request.maxFeePerGas?.toString() ?? null,
        maxPriorityFeePerGas: request.maxPriorityFeePerGas?.toString() ?? null,
        sentAt: null,
        updatedAt: new Date(),
      },
      group.map((intent) => intent.key),
      batched,
    );
    try {
      await chain.client.sendRawTransaction({ serializedTransaction: rawTx });
      await updateTx(db, key, { status: 'sent', sentAt: new Date() });
      return 'sent';
    } catch (error) {
      const refusal = nonceRefusalOf(error);
      if (refusal === 'too_low' && (await this.nodeHas(txHash))) return 'sent';
      if (refusal === 'too_low') {
        // Someone else used this nonce (the key signs outside Tracewell too): queue them again.
        await updateTx(db, key, { status: 'replaced' });
        await requeueTxIntents(db, key);
        this.deps.log(`ledger: nonce ${nonce} of ${this.signer} was taken outside this leader; ${group.length} intents queued again`);
        return 'stop';
      }
      // Stored: the next tick re-broadcasts these bytes (or finds them mined: the answer may be what was lost).
      throw error;
    }
  }

  private isRegistry(to: string): boolean {
    return this.deps.registry !== undefined && this.deps.settings.batchMaxItems > 1 && isAddressEqual(to as Address, this.deps.registry);
  }

  private findReceipt(hash: Hex): Promise<TransactionReceipt | null> {
    return this.deps.chain.client.getTransactionReceipt({ hash }).catch((error: unknown) => {
      if (error instanceof TransactionReceiptNotFoundError) return null;
      throw error;
    });
  }

  private nodeHas(hash: Hex): Promise<boolean> {
    return this.deps.chain.client.getTransaction({ hash }).then(
      () => true,
      (error: unknown) => {
        if (error instanceof TransactionNotFoundError) return false;
        throw error;
      },
    );
  }
}

/** The stored failure of a call that reverts; undefined for any other error (the node is down, ...). */
function asRevert(error: unknown, to: string, registry: Address | undefined): IntentError | undefined {
  const decoded = ContractRevertError.from(error);
  const data = ContractRevertError.dataOf(error);
  if (!decoded && !data) return undefined;
  const fromRegistry = registry !== undefined && isAddressEqual(to as Address, registry);
  if (fromRegistry && data) return revertErrorOf(data, decoded?.message ?? 'reverted');
  return {
    // The submitter decodes `data` with its contract's ABI; the node's own words are kept short.
    message: decoded?.errorName ? decoded.message : data ? `reverted with data ${data.slice(0, 10)}…` : 'reverted',
    ...(decoded?.errorName ? { name: decoded.errorName, args: decoded.args.map((arg) => String(arg)) } : {}),
    ...(data ? { data } : {}),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
