// `record`: the holder anchors the hash of an event in the part's life (its type, data and run) on chain, so
// anyone holding the data can later prove it was recorded unchanged.
import { keccak256, toHex } from 'viem';
import type { Hex } from 'viem';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import { canonicalJson, nameHash } from '../domain/chain/part-registry.js';
import type { ActivityDeps } from './context.js';
import { holderSigner, sendMirrored } from './ledger-writes.js';
import type { StepCall } from './step-call.js';
import { stepWrite } from './step-call.js';
import { recordStepAttempt } from './step-runs.js';

export interface RecordParams {
  event: string;
  data?: Record<string, unknown>;
}

export interface RecordOutput {
  hash: Hex;
  txHash: Hex | null;
  [key: string]: unknown;
}

/** The anchored hash: keccak256 of the canonical JSON of what was recorded. */
export function eventHashOf(call: StepCall<RecordParams>): Hex {
  return keccak256(
    toHex(canonicalJson({ part: call.partId, step: call.stepId, run: call.run, event: call.params.event, data: call.params.data ?? {} })),
  );
}

export function createRecordActivities(deps: ActivityDeps) {
  const { db, registry } = deps;
  return {
    async recordStep(call: StepCall<RecordParams>): Promise<RecordOutput> {
      return recordStepAttempt(db, call.partId, call.stepId, async () => {
        const hash = eventHashOf(call);
        // The holder vouches for what happened to its part.
        const holder = await holderSigner(deps, call.partId);
        const sent = await sendMirrored(deps, {
          ...stepWrite('record', call),
          account: holder.account,
          to: registry.address,
          data: registry.recordEventCall(holder.tokenId, nameHash(call.params.event), hash),
          abi: partRegistryAbi,
          isDone: () => registry.isRecorded(holder.tokenId, hash),
        });
        return { hash, txHash: sent.txHash };
      });
    },
  };
}
