// `transfer`: moves a token (this part's, or another part's such as its pallet) from its current
// holder, who signs, to a participant. A bundle carries its contents, and their custody is mirrored.
import type { Address, Hex } from 'viem';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import { findPartIdsByTokenIds, recordOwnership, setPartOwner } from '../db/parts.js';
import { tokenIdOf } from '../ledger/part-registry.js';
import type { PartRegistry } from '../ledger/part-registry.js';
import type { ActivityDeps } from './context.js';
import { rejectingReverts, stepRejected } from './errors.js';
import { holderOf, resolveRole } from './participants.js';
import type { StepCall } from './step-call.js';
import { stepWrite } from './step-call.js';
import { recordStepAttempt } from './step-runs.js';

export interface TransferParams {
  /** A role; optional only for the legacy lifecycle, which names the participant. */
  to?: string;
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

/** Every token inside a bundle, at any depth. */
async function contentsDeep(registry: PartRegistry, bundleId: bigint): Promise<bigint[]> {
  const direct = await registry.contentsOf(bundleId);
  const nested = await Promise.all(direct.map((child) => contentsDeep(registry, child)));
  return [...direct, ...nested.flat()];
}

export function createTransferActivities({ db, registry, txSender, keys }: ActivityDeps) {
  return {
    async transferStep(call: StepCall<TransferParams>): Promise<TransferOutput> {
      return recordStepAttempt(db, call.partId, call.stepId, async () => {
        const target = call.params.part ?? call.partId;
        const to = await resolveRole(db, call.params.to, call.params.participant);
        const tokenId = tokenIdOf(target);
        const currentAddress = await registry.ownerOf(tokenId);
        if (!currentAddress) throw stepRejected('PartNotOnChain', `part ${target} has no token on chain (was it minted?)`);
        const from = await holderOf(db, currentAddress);
        const sent = await rejectingReverts(() =>
          txSender.send({
            ...stepWrite('transfer', call, ...(target === call.partId ? [] : [target])),
            account: keys.account(from.keyRef),
            to: registry.address,
            data: registry.transferCall(from.address as Address, to.address as Address, tokenId),
            abi: partRegistryAbi,
            isDone: async () => (await registry.ownerOf(tokenId)) === to.address,
          }),
        );
        // Custody of the moved token and of everything bundled in it, as far as the mirror knows them.
        const moved = await findPartIdsByTokenIds(db, [tokenId, ...(await contentsDeep(registry, tokenId))]);
        for (const partId of moved) {
          if (sent.txHash) await recordOwnership(db, { partId, fromId: from.id, toId: to.id, txHash: sent.txHash, blockNumber: sent.blockNumber });
          else await setPartOwner(db, partId, to.id);
        }
        return { part: target, owner: to.id, txHash: sent.txHash };
      });
    },
  };
}
