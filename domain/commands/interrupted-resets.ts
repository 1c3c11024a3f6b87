// A reset is recorded (`requested`) before Temporal is asked, so a crash between the two leaves a
// row that claims an action nobody finished. This finishes such rows: Temporal is asked again with
// the same request id, so it answers with the reset it already made, or makes it now (the operator
// asked for it and the record says so); a refusal withdraws the row. Either way no row stays
// `requested` and no reset happens without its row.
import { and, eq, lt, sql } from 'drizzle-orm';
import { isGrpcServiceError } from '@temporalio/client';
import { withdrawOperatorAction } from '../../db/operator-actions.js';
import { operatorActions } from '../../db/schema.js';
import type { OpsDeps } from './decisions.js';
import { askTemporalToReset, recordResetDone } from './reset.js';

/** Temporal's answers that mean the reset will never be made (not a passing outage): gRPC NOT_FOUND,
 * INVALID_ARGUMENT, FAILED_PRECONDITION. */
const REFUSED = new Set<number>([5, 3, 9]);

function refused(error: unknown): boolean {
  const grpc = isGrpcServiceError(error) ? error : (error as { cause?: unknown })?.cause;
  return isGrpcServiceError(grpc) && REFUSED.has(grpc.code);
}

export interface InterruptedResets {
  finished: string[];
  withdrawn: string[];
}

/** Finishes every reset recorded as `requested` more than `olderThanMs` ago (younger ones may still be under way). */
export async function finishInterruptedResets(deps: OpsDeps, olderThanMs = 30_000): Promise<InterruptedResets> {
  const rows = await deps.db
    .select()
    .from(operatorActions)
    .where(
      and(
        eq(operatorActions.action, 'reset'),
        sql`${operatorActions.after}->>'state' = 'requested'`,
        lt(operatorActions.createdAt, new Date(Date.now() - olderThanMs)),
      ),
    );
  const outcome: InterruptedResets = { finished: [], withdrawn: [] };
  for (const row of rows) {
    const partId = row.partId!;
    const before = row.before as { partStatus: string; runId: string };
    const after = row.after as { partStatus: string; eventId: number };
    const ask = {
      partId,
      runId: before.runId,
      reason: row.reason ?? '',
      actor: row.actor,
      eventId: after.eventId,
      requestId: row.requestId.slice('reset:'.length),
    };
    try {
      const runId = await askTemporalToReset(deps, ask);
      const wasFailed = before.partStatus === 'failed';
      await recordResetDone(deps, row.requestId, partId, { partStatus: after.partStatus, runId, eventId: after.eventId, wasFailed });
      outcome.finished.push(row.requestId);
    } catch (error) {
      if (!refused(error)) throw error;
      await withdrawOperatorAction(deps.db, row.requestId, partId);
      outcome.withdrawn.push(row.requestId);
    }
  }
  return outcome;
}
