// Short workflows for ledger work outside a part's lifecycle, so it gets Temporal's retries and
// survives restarts like every other chain write: bringing a participant's on-chain roles in line
// with its record, and an ad-hoc action on a part (the holder hands it over or decommissions it; a
// certifier attaches a certificate, which resumes a part parked on `certify`).
import { proxyActivities } from '@temporalio/workflow';
import type { LedgerActionRequest, LedgerActionResult, LedgerTaskActivities, ParticipantSyncRequest } from './activity-contract.js';
import { activityOptions } from './activity-options.js';
import type { ActivityPolicy } from './types.js';

export async function participantLedgerSync(input: ParticipantSyncRequest & { policy: ActivityPolicy }) {
  const { syncParticipantLedger } = proxyActivities<LedgerTaskActivities>(activityOptions(input.policy));
  return syncParticipantLedger({ participantId: input.participantId, requestId: input.requestId });
}

export async function ledgerAction(input: LedgerActionRequest & { policy: ActivityPolicy }): Promise<LedgerActionResult> {
  const { ledgerAction: run, resumeCertification } = proxyActivities<LedgerTaskActivities>(activityOptions(input.policy));
  const { policy: _policy, ...request } = input;
  const result = await run(request as LedgerActionRequest);
  // A part parked on `certify` retries it now that a certificate arrived.
  if (result.certificate) {
    const { certificate } = result;
    result.resumed = await resumeCertification({
      partId: result.part,
      kind: certificate.certificate,
      documentHash: certificate.documentHash,
      issuerId: certificate.issuer,
    });
  }
  return result;
}
