// The interpreter's SQL bookkeeping: the part and its pending step runs when it starts, steps that
// run without an activity of their own (`await`, skipped steps), parking, failure and completion.
import { insertPart, setPartStatus } from '../db/parts.js';
import type { PartStatus } from '../db/schema.js';
import { tokenIdOf } from '../ledger/part-registry.js';
import type { ActivityDeps } from './context.js';
import { markStepFailed, setStepStatus } from './step-runs.js';

export interface StartPartInput {
  partId: string;
  lifecycle: { name: string; version: number };
  params: Record<string, unknown>;
  steps: { id: string; kind: string }[];
  /** Only the first fixed lifecycle stores metadata with the part; definitions hash it at mint. */
  metadata?: Record<string, unknown>;
}

export function createPartRecordActivities({ db }: ActivityDeps) {
  return {
    /** Creates the part and a pending run per step in the SQL mirror; a repeat changes nothing. */
    async startPart(input: StartPartInput): Promise<void> {
      await insertPart(db, {
        id: input.partId,
        tokenId: tokenIdOf(input.partId).toString(),
        lifecycle: input.lifecycle.name,
        lifecycleVersion: input.lifecycle.version,
        ownerId: null,
        metadata: input.metadata ?? {},
        params: input.params,
        steps: input.steps,
      });
    },

    /** A step that runs in the workflow itself: an `await` waiting or completed, a skipped step. */
    async recordStepStatus(input: { partId: string; stepId: string; status: 'running' | 'succeeded' | 'skipped'; output?: Record<string, unknown> }): Promise<void> {
      await setStepStatus(db, input.partId, input.stepId, input.status, input.output);
    },

    /** A step failed for good: the part is parked for an operator, or failed. */
    async recordStepFailure(input: { partId: string; stepId: string; code: string; message: string; outcome?: 'parked' | 'failed' }): Promise<void> {
      await markStepFailed(db, input.partId, input.stepId, input.code, input.message);
      await setPartStatus(db, input.partId, input.outcome ?? 'failed');
    },

    async setPartStatus(input: { partId: string; status: PartStatus }): Promise<void> {
      await setPartStatus(db, input.partId, input.status);
    },

    async completePart(input: { partId: string }): Promise<void> {
      await setPartStatus(db, input.partId, 'completed');
    },
  };
}
