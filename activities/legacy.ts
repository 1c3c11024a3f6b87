// The activities of the first, fixed lifecycle (workflow `partLifecycle`, part-basic v1 as TypeScript),
// kept so parts started on it before the interpreter existed can finish. They adapt to the step
// activities; new parts use lifecycle definitions and never call these.
import type { MintResult, StepDefinition, TransferResult } from '../workflows/types.js';
import type { ActivityDeps } from './context.js';
import { createMintActivities } from './mint.js';
import { createPartRecordActivities } from './part-records.js';
import { requireParticipant } from './participants.js';
import { createTransferActivities } from './transfer.js';
import { recordStepAttempt } from './step-runs.js';

export interface RegisterPartInput {
  partId: string;
  ownerId: string;
  metadata: Record<string, unknown>;
  lifecycle: { name: string; version: number };
  steps: StepDefinition[];
}

export function createLegacyActivities(deps: ActivityDeps) {
  const { mintStep } = createMintActivities(deps);
  const { transferStep } = createTransferActivities(deps);
  const { startPart } = createPartRecordActivities(deps);
  return {
    async registerPart(input: RegisterPartInput): Promise<void> {
      await requireParticipant(deps.db, input.ownerId);
      await startPart({ partId: input.partId, lifecycle: input.lifecycle, params: {}, steps: input.steps, metadata: input.metadata });
      const registerStep = input.steps.find((step) => step.kind === 'register');
      if (registerStep) await recordStepAttempt(deps.db, input.partId, registerStep.id, async () => ({}));
    },

    async mintPart(input: { partId: string; stepId: string; ownerId: string; metadata: Record<string, unknown> }): Promise<MintResult> {
      const minted = await mintStep({ partId: input.partId, stepId: input.stepId, run: 1, params: { participant: input.ownerId, metadata: input.metadata } });
      return { tokenId: minted.tokenId, ownerId: minted.owner, txHash: minted.txHash };
    },

    async transferPart(input: { partId: string; stepId: string; toId: string }): Promise<TransferResult> {
      const moved = await transferStep({ partId: input.partId, stepId: input.stepId, run: 1, params: { participant: input.toId } });
      return { ownerId: moved.owner, txHash: moved.txHash };
    },
  };
}
