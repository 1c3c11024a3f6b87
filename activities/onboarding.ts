// Brings a participant's on-chain roles (and, on dev chains, its gas money) in line with its record.
import { syncParticipantOnChain } from '../domain/participants/onboarding.js';
import type { LedgerStanding } from '../domain/participants/onboarding.js';
import type { ParticipantSyncRequest } from '../workflows/activity-contract.js';
import type { ActivityDeps } from './context.js';
import { requireParticipant } from './participants.js';

export type { ParticipantSyncRequest };

export function createOnboardingActivities(deps: ActivityDeps) {
  return {
    async syncParticipantLedger(request: ParticipantSyncRequest): Promise<LedgerStanding & { participant: string }> {
      const participant = await requireParticipant(deps.db, request.participantId);
      const admin = await deps.keys.account(deps.registrarKeyRef);
      const standing = await syncParticipantOnChain(
        { registry: deps.registry, txSender: deps.txSender, admin, fund: deps.fundParticipants },
        participant,
        request.requestId,
      );
      return { participant: participant.id, ...standing };
    },
  };
}
