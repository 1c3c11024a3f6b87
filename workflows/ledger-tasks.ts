// Short workflows for ledger work outside a part's lifecycle, so it gets Temporal's retries and
// survives restarts like every other chain write: bringing a participant's on-chain roles in line
// with its record, and a holder's ad-hoc action on a part (hand over, decommission).
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import type { LedgerActionRequest, LedgerActionResult } from '../activities/ledger-actions.js';
import type { ParticipantSyncRequest } from '../activities/onboarding.js';
import { activityOptions } from './activity-options.js';
import type { ActivityPolicy } from './types.js';

export async function participantLedgerSync(input: ParticipantSyncRequest & { policy: ActivityPolicy }) {
  const { syncParticipantLedger } = proxyActivities<Activities>(activityOptions(input.policy));
  return syncParticipantLedger({ participantId: input.participantId, requestId: input.requestId });
}

export async function ledgerAction(input: LedgerActionRequest & { policy: ActivityPolicy }): Promise<LedgerActionResult> {
  const { ledgerAction: run } = proxyActivities<Activities>(activityOptions(input.policy));
  const { policy: _policy, ...request } = input;
  return run(request as LedgerActionRequest);
}
