// Mirrors every step attempt to SQL: `running` with the attempt number when it starts, `succeeded`
// with its output and tx hash when it ends, and the last error while it is being retried (an
// unreachable chain node as `ChainUnavailableError`, whatever call met it).
import { ApplicationFailure, Context } from '@temporalio/activity';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { classifyChainError } from '../domain/chain/chain-errors.js';
import { chainTxs, stepRuns } from '../db/schema.js';

export interface StepOutput {
  txHash?: string | null;
  [key: string]: unknown;
}

function stepKey(partId: string, stepId: string) {
  return and(eq(stepRuns.partId, partId), eq(stepRuns.stepId, stepId));
}

/** Runs one attempt of a step inside an activity, recording its progress. */
export async function recordStepAttempt<T extends StepOutput>(db: Db, partId: string, stepId: string, work: () => Promise<T>): Promise<T> {
  const attempt = Context.current().info.attempt;
  await db
    .update(stepRuns)
    .set({ status: 'running', attempts: attempt, startedAt: sql`coalesce(${stepRuns.startedAt}, now())`, updatedAt: new Date() })
    .where(stepKey(partId, stepId));
  try {
    const output = await work();
    await db
      .update(stepRuns)
      .set({
        status: 'succeeded',
        txHash: output.txHash ?? null,
        output,
        lastErrorCode: null,
        lastErrorMessage: null,
        finishedAt: new Date(),
        updatedAt: new Date(),
      })
      .where(stepKey(partId, stepId));
    return output;
  } catch (thrown) {
    const error = classifyChainError(thrown);
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    const code = error instanceof ApplicationFailure && error.type ? error.type : name;
    // Best effort: losing this note must not hide the original error from Temporal.
    await db
      .update(stepRuns)
      .set({ lastErrorCode: code, lastErrorMessage: message.slice(0, 4000), updatedAt: new Date() })
      .where(stepKey(partId, stepId))
      .catch(() => undefined);
    throw error;
  }
}

/**
 * Marks a step failed for good (its retries are exhausted or its error is not retryable), with the
 * last transaction it signed: ops can see whether that one landed before they retry.
 */
export async function markStepFailed(db: Db, partId: string, stepId: string, code: string, message: string): Promise<void> {
  const lastTx = db
    .select({ txHash: chainTxs.txHash })
    .from(chainTxs)
    .where(and(eq(chainTxs.partId, partId), eq(chainTxs.stepId, stepId)))
    .orderBy(desc(chainTxs.updatedAt))
    .limit(1);
  await db
    .update(stepRuns)
    .set({
      status: 'failed',
      lastErrorCode: code,
      lastErrorMessage: message.slice(0, 4000),
      lastTxHash: sql`(${lastTx})`,
      finishedAt: new Date(),
      updatedAt: new Date(),
    })
    .where(stepKey(partId, stepId));
}

/** A step the workflow runs itself: an `await` waiting (running) or done, or a step it skipped. */
export async function setStepStatus(
  db: Db,
  partId: string,
  stepId: string,
  status: 'running' | 'succeeded' | 'skipped',
  output?: Record<string, unknown>,
): Promise<void> {
  const now = new Date();
  await db
    .update(stepRuns)
    .set({
      status,
      updatedAt: now,
      ...(status === 'running' ? { startedAt: now, finishedAt: null, lastErrorCode: null, lastErrorMessage: null } : { finishedAt: now }),
      ...(output ? { output } : {}),
    })
    .where(stepKey(partId, stepId));
}
