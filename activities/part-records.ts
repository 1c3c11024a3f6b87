// The interpreter's SQL bookkeeping: the part and its pending step runs when it starts, steps that
// run without an activity of their own (`await`, skipped steps), parking, operator decisions (with
// their audit row), failure and completion.
import { insertOperatorAction } from '../db/operator-actions.js';
import { insertPart, setPartStatus } from '../db/parts.js';
import type { OperatorDecisionRecord, PartRecordActivities, StartPartInput } from '../workflows/activity-contract.js';
import { tokenIdOf } from '../domain/chain/part-registry.js';
import type { ActivityDeps } from './context.js';
import { markStepFailed, setStepStatus } from './step-runs.js';

export type { OperatorDecisionRecord, StartPartInput };

export function createPartRecordActivities({ db }: ActivityDeps): PartRecordActivities {
  return {
    /** Creates the part and a pending run per step in the SQL mirror; a repeat changes nothing. */
    async startPart(input: StartPartInput): Promise<void> {
      await insertPart(db, {
        id: input.partId,
        tokenId: tokenIdOf(input.partId).toString(),
        lifecycle: input.lifecycle.name,
        lifecycleVersion: input.lifecycle.version,
        ownerId: null,
        metadata: {},
        params: input.params,
        createdBy: input.createdBy ?? null,
        roles: input.roles,
        steps: input.steps,
      });
    },

    /** A step that runs in the workflow itself: an `await` waiting or completed, a skipped step. */
    async recordStepStatus(input: {
      partId: string;
      stepId: string;
      status: 'running' | 'succeeded' | 'skipped';
      output?: Record<string, unknown>;
    }): Promise<void> {
      await setStepStatus(db, input.partId, input.stepId, input.status, input.output);
    },

    /** A step failed for good: the part is parked for an operator, or failed. */
    async recordStepFailure(input: {
      partId: string;
      stepId: string;
      code: string;
      message: string;
      outcome?: 'parked' | 'failed';
    }): Promise<void> {
      await db.transaction(async (tx) => {
        await markStepFailed(tx, input.partId, input.stepId, input.code, input.message);
        await setPartStatus(tx, input.partId, input.outcome ?? 'failed');
      });
    },

    /** An operator's decision on a parked step: the audit row and the state it leads to, at once. */
    async recordOperatorDecision(input: OperatorDecisionRecord): Promise<void> {
      await db.transaction(async (tx) => {
        if (!(await insertOperatorAction(tx, input))) return;
        await setPartStatus(tx, input.partId, input.after.partStatus);
        if (input.action === 'skip') await setStepStatus(tx, input.partId, input.stepId, 'skipped');
      });
    },

    async completePart(input: { partId: string }): Promise<void> {
      await setPartStatus(db, input.partId, 'completed');
    },
  };
}
