// `mint`: the part's token goes to its first holder (a role, or a named participant holding it),
// signed by the registrar. Minting is once per part whatever the step, so the key is the part's.
import type { Address, Hex } from 'viem';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import { recordOwnership } from '../db/parts.js';
import { metadataHashOf, tokenIdOf } from '../ledger/part-registry.js';
import type { ActivityDeps } from './context.js';
import { rejectingReverts } from './errors.js';
import { holderOf, resolveRole } from './participants.js';
import type { StepCall } from './step-call.js';
import { recordStepAttempt } from './step-runs.js';

export interface MintParams {
  /** A role; optional only for the legacy lifecycle, which names the participant. */
  to?: string;
  participant?: string;
  metadata?: Record<string, unknown>;
}

export interface MintOutput {
  tokenId: string;
  owner: string;
  txHash: Hex | null;
  [key: string]: unknown;
}

export function createMintActivities({ db, registry, txSender, keys, registrarKeyRef }: ActivityDeps) {
  return {
    async mintStep(call: StepCall<MintParams>): Promise<MintOutput> {
      return recordStepAttempt(db, call.partId, call.stepId, async () => {
        const owner = await resolveRole(db, call.params.to, call.params.participant);
        const tokenId = tokenIdOf(call.partId);
        const sent = await rejectingReverts(() =>
          txSender.send({
            key: `mint:${call.partId}`,
            origin: { partId: call.partId, stepId: call.stepId },
            account: keys.account(registrarKeyRef),
            to: registry.address,
            data: registry.registerCall(call.partId, owner.address as Address, metadataHashOf(call.params.metadata ?? {})),
            abi: partRegistryAbi,
            isDone: () => registry.exists(tokenId),
          }),
        );
        // The chain decides who holds the token; a retry may find it already moved on.
        const holder = await holderOf(db, (await registry.ownerOf(tokenId))!);
        const txHash = sent.txHash ?? (await registry.mintTxHash(tokenId));
        if (txHash) await recordOwnership(db, { partId: call.partId, fromId: null, toId: owner.id, txHash, blockNumber: sent.blockNumber });
        return { tokenId: tokenId.toString(), owner: holder.id, txHash };
      });
    },
  };
}
