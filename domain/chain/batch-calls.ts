// PartRegistry's batch entry point as the transaction manager uses it: many intents' calls in one
// transaction, and which items the contract skipped (BatchItemFailed) with their decoded reasons.
import { encodeFunctionData, isAddressEqual, parseEventLogs } from 'viem';
import type { Address, Hex, Log } from 'viem';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import type { IntentError } from './chain-intents.js';
import { ContractRevertError } from './tx-sender.js';

export function batchData(calls: readonly Hex[]): Hex {
  return encodeFunctionData({ abi: partRegistryAbi, functionName: 'batch', args: [calls] });
}

/** The items of a mined batch that reverted, by index, with their revert data. */
export function failedItems(registry: Address, logs: readonly Log[]): Map<number, Hex> {
  const failed = new Map<number, Hex>();
  const ours = logs.filter((log) => isAddressEqual(log.address, registry));
  for (const event of parseEventLogs({ abi: partRegistryAbi, logs: ours, eventName: 'BatchItemFailed' })) {
    failed.set(Number(event.args.index), event.args.reason);
  }
  return failed;
}

/** An intent's failure as stored: the raw revert data, named with the PartRegistry's errors when it is one. */
export function revertErrorOf(data: Hex | undefined, fallback: string): IntentError {
  const decoded = data ? ContractRevertError.fromData(data, partRegistryAbi) : undefined;
  return {
    message: decoded?.message ?? fallback,
    ...(decoded?.errorName ? { name: decoded.errorName, args: decoded.args.map((arg) => String(arg)) } : {}),
    ...(data ? { data } : {}),
  };
}
