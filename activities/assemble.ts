// `assemble`: consumes component parts into this part (the product). The contract records them as
// its components, and a consumed part never moves again.
import type { Hex } from 'viem';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import { tokenIdOf } from '../ledger/part-registry.js';
import type { ActivityDeps } from './context.js';
import { rejectingReverts, stepRejected } from './errors.js';
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

export function createAssembleActivities({ db, registry, txSender, keys, registrarKeyRef }: ActivityDeps) {
  return {
    async assembleStep(call: StepCall<AssembleParams>): Promise<AssembleOutput> {
      return recordStepAttempt(db, call.partId, call.stepId, async () => {
        const components = [call.params.components].flat();
        if (components.length === 0) throw stepRejected('NoComponents', 'components: the list is empty');
        const productId = tokenIdOf(call.partId);
        const componentIds = components.map(tokenIdOf);
        const sent = await rejectingReverts(() =>
          txSender.send({
            ...stepWrite('assemble', call),
            account: keys.account(registrarKeyRef),
            to: registry.address,
            data: registry.assembleCall(productId, componentIds),
            abi: partRegistryAbi,
            isDone: async () => (await Promise.all(componentIds.map((id) => registry.assembledInto(id)))).every((into) => into === productId),
          }),
        );
        return { components, txHash: sent.txHash };
      });
    },
  };
}
