// `assemble`: the holder consumes component parts into this part (the product). The contract records
// them as its components, and a consumed part never moves again.
import type { Hex } from 'viem';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import { tokenIdOf } from '../domain/chain/part-registry.js';
import type { ActivityDeps } from './context.js';
import { StepRejection, stepRejected } from './step-failures.js';
import { holderSigner, sendMirrored } from './ledger-writes.js';
import type { StepCall } from './step-call.js';
import { stepWrite } from './step-call.js';
import { recordStepAttempt } from './step-runs.js';

export interface AssembleParams {
  components: string | string[];
}

export interface AssembleOutput {
  components: string[];
  txHash: Hex | null;
  [key: string]: unknown;
}

export function createAssembleActivities(deps: ActivityDeps) {
  const { db, registry } = deps;
  return {
    async assembleStep(call: StepCall<AssembleParams>): Promise<AssembleOutput> {
      return recordStepAttempt(db, call.partId, call.stepId, async () => {
        const components = [call.params.components].flat();
        if (components.length === 0) throw stepRejected(StepRejection.NoComponents, 'components: the list is empty');
        const holder = await holderSigner(deps, call.partId);
        const componentIds = components.map(tokenIdOf);
        const sent = await sendMirrored(deps, {
          ...stepWrite('assemble', call),
          account: holder.account,
          to: registry.address,
          data: registry.assembleCall(holder.tokenId, componentIds),
          abi: partRegistryAbi,
          isDone: async () =>
            (await Promise.all(componentIds.map((id) => registry.assembledInto(id)))).every((into) => into === holder.tokenId),
        });
        return { components, txHash: sent.txHash };
      });
    },
  };
}
