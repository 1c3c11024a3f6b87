// `mint`: the part's first holder (a role, or a named participant holding it) registers the part's
// token to itself, signing with its own key; `from` names the lots it was made from (held by the
// same participant, not consumed). Minting is once per part whatever the step, so the key is the part's.
import type { Hex } from 'viem';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import { metadataHashOf, tokenIdOf } from '../domain/chain/part-registry.js';
import type { ActivityDeps } from './context.js';
import { holderOf, resolveRole } from './participants.js';
import { sendMirrored, signerOf } from './ledger-writes.js';
import type { StepCall } from './step-call.js';
import { recordStepAttempt } from './step-runs.js';

export interface MintParams {
  /** The role of the recipient; `participant` names one holder of it when several do. */
  to: string;
  participant?: string;
  metadata?: Record<string, unknown>;
  /** The parts this one is made from (e.g. the ore lot of a wafer). */
  from?: string | string[];
}

export interface MintOutput {
  tokenId: string;
  owner: string;
  txHash: Hex | null;
  [key: string]: unknown;
}

export function createMintActivities(deps: ActivityDeps) {
  const { db, registry } = deps;
  return {
    async mintStep(call: StepCall<MintParams>): Promise<MintOutput> {
      return recordStepAttempt(db, call.partId, call.stepId, async () => {
        const owner = await resolveRole(db, call.params.to, call.params.participant);
        const tokenId = tokenIdOf(call.partId);
        const sources = [call.params.from ?? []].flat().map(tokenIdOf);
        const sent = await sendMirrored(deps, {
          key: `mint:${call.partId}`,
          origin: { partId: call.partId, stepId: call.stepId },
          account: await signerOf(deps, owner),
          to: registry.address,
          data: registry.registerCall(call.partId, metadataHashOf(call.params.metadata ?? {}), sources),
          abi: partRegistryAbi,
          isDone: () => registry.exists(tokenId),
        });
        let txHash = sent.txHash;
        if (!txHash) {
          // Minted by an earlier attempt whose transaction we no longer know: find it on the chain.
          txHash = await registry.mintTxHash(tokenId);
        }
        // The chain decides who holds the token; a retry may find it already moved on.
        const holder = await holderOf(db, (await registry.ownerOf(tokenId))!);
        return { tokenId: tokenId.toString(), owner: holder.id, txHash };
      });
    },
  };
}
