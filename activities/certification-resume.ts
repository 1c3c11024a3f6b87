// When a certificate is anchored on a part that is parked on a `certify` step, the part retries the
// step at once instead of waiting for an operator: it "parks until a valid certificate is attached,
// then continues". The retry is an ordinary operator decision, audited under the certifier, and
// named by the certificate, so a repeated attempt is one decision.
import { getClient } from '@temporalio/activity';
import { listFailures } from '../db/failed-steps.js';
import { isCoded } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { sendDecision } from '../domain/commands/decisions.js';
import type { CertificationResumeRequest } from '../workflows/activity-contract.js';
import type { ActivityDeps } from './context.js';

export type { CertificationResumeRequest };

export function createCertificationResumeActivities(deps: ActivityDeps) {
  return {
    /** The certify step retried, or null when the part was not parked on one. */
    async resumeCertification(request: CertificationResumeRequest): Promise<string | null> {
      const { rows } = await listFailures(deps.db, { partIds: [request.partId], kind: 'certify', partStatus: ['parked'] }, { limit: 1 });
      const parked = rows[0];
      if (!parked) return null;
      try {
        await sendDecision(
          { db: deps.db, temporal: getClient() },
          request.partId,
          {
            action: 'retry',
            step: parked.stepId,
            actor: request.issuerId,
            reason: `certificate "${request.kind}" (document ${request.documentHash}) attached by ${request.issuerId}`,
          },
          `certificate-attached:${request.partId}:${request.documentHash}`,
        );
        return parked.stepId;
      } catch (error) {
        // Moved on meanwhile (an operator acted first): nothing to resume.
        if (isCoded(error, Errors.part_not_parked, Errors.step_not_failed, Errors.part_not_active)) return null;
        throw error;
      }
    },
  };
}
