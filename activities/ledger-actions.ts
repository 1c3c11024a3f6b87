// Ledger actions outside a lifecycle, asked for over the API by the participant holding the part:
// hand it over to another participant, or take it out of circulation. The `decommission` step kind
// shares the write. Each action is named by its request id, so a retry never sends it twice.
import type { Hex } from 'viem';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import { attachCertificate } from './certificates.js';
import type { LedgerAction, LedgerActionRequest, LedgerActionResult } from '../workflows/activity-contract.js';
import type { ActivityDeps } from './context.js';
import { StepRejection, stepRejected } from './step-failures.js';
import { holderSigner, sendMirrored } from './ledger-writes.js';
import type { Holder } from './ledger-writes.js';
import { requireParticipant } from './participants.js';
import type { StepCall } from './step-call.js';
import { stepWrite } from './step-call.js';
import { recordStepAttempt } from './step-runs.js';
import { moveToken } from './transfer.js';

export type { LedgerAction, LedgerActionRequest, LedgerActionResult };

async function decommission(deps: ActivityDeps, holder: Holder, write: { key: string; origin?: { partId: string; stepId: string } }) {
  const { registry } = deps;
  return sendMirrored(deps, {
    ...write,
    account: holder.account,
    to: registry.address,
    data: registry.decommissionCall(holder.tokenId),
    abi: partRegistryAbi,
    isDone: () => registry.isDecommissioned(holder.tokenId),
  });
}

export function createLedgerActionActivities(deps: ActivityDeps) {
  return {
    async ledgerAction(request: LedgerActionRequest): Promise<LedgerActionResult> {
      if (request.action === 'attach-certificate') {
        const issuer = await requireParticipant(deps.db, request.actorId);
        const certificate = await attachCertificate(deps, {
          partId: request.partId,
          kind: request.kind,
          document: request.document,
          issuer,
          validForMs: request.validForMs,
        });
        return { part: request.partId, action: 'attach-certificate', txHash: certificate.txHash, certificate };
      }
      const holder = await holderSigner(deps, request.partId);
      const key = `action:${request.requestId}`;
      // A retry after the action landed finds it done, with the new holder; otherwise the holder is
      // checked again here, where it counts: the part may have moved since the API looked.
      const alreadyDone =
        request.action === 'transfer' ? holder.participant.id === request.to : await deps.registry.isDecommissioned(holder.tokenId);
      if (holder.participant.id !== request.actorId && !alreadyDone) {
        throw stepRejected(
          StepRejection.NotHolder,
          `participant "${request.actorId}" does not hold ${request.partId} (${holder.participant.id} does)`,
        );
      }
      if (request.action === 'transfer') {
        const to = await requireParticipant(deps.db, request.to);
        const sent = await moveToken(deps, request.partId, holder, to, { key });
        return { part: request.partId, action: 'transfer', owner: to.id, txHash: sent.txHash };
      }
      const sent = await decommission(deps, holder, { key });
      return { part: request.partId, action: 'decommission', owner: holder.participant.id, txHash: sent.txHash };
    },

    async decommissionStep(call: StepCall<{ part?: string }>): Promise<{ part: string; txHash: Hex | null }> {
      return recordStepAttempt(deps.db, call.partId, call.stepId, async () => {
        const target = call.params.part ?? call.partId;
        const holder = await holderSigner(deps, target);
        const sent = await decommission(deps, holder, stepWrite('decommission', call, ...(target === call.partId ? [] : [target])));
        return { part: target, txHash: sent.txHash };
      });
    },
  };
}
