// `transfer`: moves a token (this part's, or another part's such as its pallet) from its current
// holder, who signs, to a participant. A bundle carries its contents; the mirror records each move.
import type { Address, Hex } from 'viem';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import { setPartOwner } from '../db/parts.js';
import type { Participant } from '../db/participants.js';
import type { ChainWrite, ChainWriteResult } from '../domain/chain/tx-sender.js';
import type { ActivityDeps } from './context.js';
import { holderSigner, sendMirrored } from './ledger-writes.js';
import type { Holder } from './ledger-writes.js';
import { resolveRole } from './participants.js';
import type { StepCall } from './step-call.js';
import { stepWrite } from './step-call.js';
import { recordStepAttempt } from './step-runs.js';

export interface TransferParams {
  /** The role of the recipient; `participant` names one holder of it when several do. */
  to: string;
  participant?: string;
  /** Another part to move; default: the step's own part. */
  part?: string;
}

export interface TransferOutput {
  part: string;
  owner: string;
  txHash: Hex | null;
  [key: string]: unknown;
}

/** Moves `partId`'s token from its holder (who signs) to `to`; the write is named by `write`. */
export async function moveToken(
  deps: ActivityDeps,
  partId: string,
  from: Holder,
  to: Participant,
  write: Pick<ChainWrite, 'key' | 'origin'>,
): Promise<ChainWriteResult> {
  const { registry } = deps;
  const sent = await sendMirrored(deps, {
    ...write,
    account: from.account,
    to: registry.address,
    data: registry.transferCall(from.participant.address as Address, to.address as Address, from.tokenId),
    abi: partRegistryAbi,
    isDone: async () => (await registry.ownerOf(from.tokenId)) === to.address,
  });
  // Moved by someone else already: the mirror has no transaction of ours, but the holder is known.
  if (!sent.txHash) await setPartOwner(deps.db, partId, to.id);
  return sent;
}

export function createTransferActivities(deps: ActivityDeps) {
  const { db } = deps;
  return {
    async transferStep(call: StepCall<TransferParams>): Promise<TransferOutput> {
      return recordStepAttempt(db, call.partId, call.stepId, async () => {
        const target = call.params.part ?? call.partId;
        const to = await resolveRole(db, call.params.to, call.params.participant);
        const from = await holderSigner(deps, target);
        const sent = await moveToken(deps, target, from, to, stepWrite('transfer', call, ...(target === call.partId ? [] : [target])));
        return { part: target, owner: to.id, txHash: sent.txHash };
      });
    },
  };
}
