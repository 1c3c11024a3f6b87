// The contract gateway: registered contracts, and invoking (a transaction signed by the calling
// participant), querying (eth_call) and reading the events of any of them through their ABI, with
// JSON in and out as abi-json.ts maps it. Refusals are coded errors: a value that does not fit
// its type (400, naming the field), a revert with its custom error decoded (409).
import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import {
  AbiDecodingZeroDataError,
  BaseError,
  decodeFunctionResult,
  encodeFunctionData,
  getAddress,
  InsufficientFundsError,
  isAddress,
  parseEventLogs,
} from 'viem';
import type { Abi, AbiEvent, AbiFunction, Address, Hex, Log } from 'viem';
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';
import type { Db } from '../../db/client.js';
import type { Participant } from '../../db/participants.js';
import { gatewayContracts } from '../../db/schema.js';
import type { ChainConnection } from '../chain/connection.js';
import type { KeyStore } from '../participants/keystore.js';
import { LogReader } from '../mirror/log-reader.js';
import { ContractRevertError, TransactionRevertedError } from '../chain/tx-sender.js';
import type { AbiError, TxSender } from '../chain/tx-sender.js';
import { AbiValueError, fieldName, fromAbiValue, toAbiArgs } from './abi-json.js';
import { abiProblems } from './abi-validation.js';
import { contractOpenApi, methodKeys, signatureOf } from './contract-openapi.js';

export type GatewayContract = typeof gatewayContracts.$inferSelect;

export interface GatewayDeps {
  db: Db;
  chain: ChainConnection;
  keys: KeyStore;
  txSender: TxSender;
}

/** Most events one GET /contracts/:name/events answers with (narrow the blocks for more). */
const MAX_EVENTS = 10_000;

export const CONTRACT_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/** Registers (or re-registers) a contract under `name` on this chain. */
export async function registerContract(
  db: Db,
  chainId: number,
  contract: { name: string; address: string; abi: Abi },
  registeredBy: string,
): Promise<{ contract: GatewayContract; created: boolean }> {
  if (!isAddress(contract.address, { strict: false }))
    throw new CodedError(Errors.invalid_request, { problems: 'address: expected a 0x-prefixed 20-byte address' });
  const problems = abiProblems(contract.abi);
  if (problems.length > 0)
    throw new CodedError(Errors.invalid_abi, { problems: problems.map((p) => `${p.field}: ${p.message}`).join('; ') }, problems);
  try {
    // Its document is built from every argument and result type: one that does not map to JSON is refused here.
    contractOpenApi(contract);
  } catch (error) {
    throw new CodedError(Errors.invalid_abi, { problems: `abi: ${(error as Error).message}` });
  }
  const [existing] = await db
    .select({ name: gatewayContracts.name })
    .from(gatewayContracts)
    .where(eq(gatewayContracts.name, contract.name));
  const values = { chainId, address: getAddress(contract.address), abi: contract.abi as unknown[], registeredBy, updatedAt: new Date() };
  const [row] = await db
    .insert(gatewayContracts)
    .values({ name: contract.name, ...values })
    .onConflictDoUpdate({ target: gatewayContracts.name, set: values })
    .returning();
  return { contract: row!, created: !existing };
}

export async function listContracts(db: Db, chainId: number): Promise<GatewayContract[]> {
  return db.select().from(gatewayContracts).where(eq(gatewayContracts.chainId, chainId)).orderBy(asc(gatewayContracts.name));
}

export async function getContract(db: Db, chainId: number, name: string): Promise<GatewayContract> {
  const [row] = await db
    .select()
    .from(gatewayContracts)
    .where(and(eq(gatewayContracts.name, name), eq(gatewayContracts.chainId, chainId)));
  if (!row) throw new CodedError(Errors.contract_not_found, { name });
  return row;
}

function functionOf(contract: GatewayContract, method: string): AbiFunction {
  const methods = methodKeys(contract.abi as Abi);
  const fn = methods.get(method) ?? [...methods.values()].find((candidate) => signatureOf(candidate) === method);
  if (!fn) {
    throw new CodedError(Errors.method_not_found, { contract: contract.name, method, methods: [...methods.keys()].join(', ') });
  }
  return fn;
}

function argsOf(fn: AbiFunction, input: unknown): unknown[] {
  try {
    return toAbiArgs(fn.inputs, input ?? {}, 'input');
  } catch (error) {
    if (error instanceof AbiValueError)
      throw new CodedError(Errors.invalid_argument, { problem: error.message }, [
        { field: error.field, message: error.message.slice(error.field.length + 2) },
      ]);
    throw error;
  }
}

/**
 * A refusal the caller can act on: a revert (its custom error's name, signature and arguments as
 * JSON), a caller without gas money, or an address without a contract answering the call.
 */
function revertOf(error: unknown, abi: Abi): CodedError | undefined {
  if (error instanceof BaseError && error.walk((e) => e instanceof InsufficientFundsError)) {
    return new CodedError(Errors.insufficient_funds, {}, undefined, { cause: error });
  }
  if (error instanceof BaseError && error.walk((e) => e instanceof AbiDecodingZeroDataError)) {
    return new CodedError(Errors.no_result, {}, undefined, { cause: error });
  }
  // Mined, then reverted (the simulation before sending passed): nothing more to decode.
  if (error instanceof TransactionRevertedError)
    return new CodedError(Errors.contract_reverted, { reason: error.message }, { name: null, args: {}, txHash: error.txHash });
  const revert = error instanceof ContractRevertError ? error : ContractRevertError.from(error, abi);
  if (!revert) return undefined;
  // The entry viem decoded it with, when the contract declares it (Solidity's Error and Panic it does not).
  const decodedWith = revert.abiItem && signatureOf(revert.abiItem);
  const definition = abi.find((item): item is AbiError => item.type === 'error' && signatureOf(item) === decodedWith);
  const args = definition
    ? Object.fromEntries(definition.inputs.map((input, index) => [fieldName(input, index), fromAbiValue(input, revert.args[index])]))
    : {};
  return new CodedError(
    Errors.contract_reverted,
    { reason: revert.message },
    { name: revert.errorName ?? null, ...(definition ? { signature: signatureOf(definition) } : {}), args },
  );
}

/** The decoded events of logs, as JSON. */
function eventsOf(abi: Abi, logs: Log[]) {
  return parseEventLogs({ abi, logs }).map((log) => {
    const definition = abi.find((item): item is AbiEvent => item.type === 'event' && item.name === log.eventName)!;
    const args = Object.fromEntries(
      definition.inputs.map((input, index) => {
        const raw = Array.isArray(log.args) ? log.args[index] : (log.args as Record<string, unknown>)[input.name ?? ''];
        return [fieldName(input, index), fromAbiValue(input, raw)];
      }),
    );
    return { name: log.eventName, args, blockNumber: log.blockNumber?.toString(), logIndex: log.logIndex, txHash: log.transactionHash };
  });
}

export async function queryContract(deps: GatewayDeps, contract: GatewayContract, method: string, input: unknown, caller: Participant) {
  const abi = contract.abi as Abi;
  const fn = functionOf(contract, method);
  const data = encodeFunctionData({ abi: [fn], functionName: fn.name, args: argsOf(fn, input) });
  try {
    const result = await deps.chain.client.call({ account: caller.address as Address, to: contract.address as Address, data });
    const decoded = decodeFunctionResult({ abi: [fn], functionName: fn.name, data: result.data ?? '0x' });
    const values = fn.outputs.length === 1 ? [decoded] : (decoded as readonly unknown[]);
    return {
      output: Object.fromEntries(fn.outputs.map((output, index) => [fieldName(output, index), fromAbiValue(output, values[index])])),
    };
  } catch (error) {
    throw revertOf(error, abi) ?? error;
  }
}

/**
 * Sends the transaction signed by `caller`. With an idempotency key, the write is stored under it
 * before it is broadcast: a repeat finds it and answers with its receipt, sending nothing.
 */
export async function invokeContract(
  deps: GatewayDeps,
  contract: GatewayContract,
  method: string,
  body: { input?: unknown; value?: string },
  caller: Participant,
  idempotencyKey?: string,
) {
  const abi = contract.abi as Abi;
  const fn = functionOf(contract, method);
  if (fn.stateMutability === 'view' || fn.stateMutability === 'pure') {
    throw new CodedError(Errors.read_only_method, {
      signature: signatureOf(fn),
      mutability: fn.stateMutability,
      contract: contract.name,
      method,
    });
  }
  if (body.value !== undefined && fn.stateMutability !== 'payable')
    throw new CodedError(Errors.invalid_argument, { problem: `value: ${signatureOf(fn)} is not payable` });
  const data = encodeFunctionData({ abi: [fn], functionName: fn.name, args: argsOf(fn, body.input) });
  const key = `gateway:${contract.name}:${caller.id}:${idempotencyKey ?? randomUUID()}`;
  try {
    const sent = await deps.txSender.send({
      key,
      account: await deps.keys.account(caller.keyRef),
      to: contract.address as Address,
      data: data as Hex,
      ...(body.value === undefined ? {} : { value: BigInt(body.value) }),
      abi,
      isDone: async () => false,
      // The answer carries the transaction's own events: never in a batch.
      batchable: false,
    });
    return { txHash: sent.txHash, blockNumber: sent.blockNumber?.toString() ?? null, status: 'success', events: eventsOf(abi, sent.logs) };
  } catch (error) {
    throw revertOf(error, abi) ?? error;
  }
}

export async function contractEvents(
  deps: GatewayDeps,
  contract: GatewayContract,
  filter: { event?: string; fromBlock?: bigint; toBlock?: bigint | 'latest' },
) {
  const abi = contract.abi as Abi;
  if (filter.event && !abi.some((item) => item.type === 'event' && item.name === filter.event)) {
    throw new CodedError(Errors.invalid_query, { problems: `event: ${contract.name} emits no "${filter.event}"` });
  }
  // In spans the node accepts (hosted nodes refuse wide eth_getLogs ranges), up to MAX_EVENTS.
  // A toBlock past the head reads to the head: nothing lies beyond it, and spans up to a far block would never end.
  const head = await deps.chain.client.getBlockNumber({ cacheTime: 0 });
  const last = filter.toBlock === undefined || filter.toBlock === 'latest' || filter.toBlock > head ? head : filter.toBlock;
  const reader = new LogReader(deps.chain.client, contract.address as Address, 2_000);
  const events: ReturnType<typeof eventsOf> = [];
  let truncated = false;
  for await (const span of reader.spans(filter.fromBlock ?? 0n, last)) {
    events.push(...eventsOf(abi, span.logs as Log[]).filter((event) => !filter.event || event.name === filter.event));
    if (events.length >= MAX_EVENTS) {
      truncated = span.to < last || events.length > MAX_EVENTS;
      break;
    }
  }
  return { events: events.slice(0, MAX_EVENTS), ...(truncated ? { truncated: true } : {}) };
}
