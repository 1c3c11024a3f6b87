// Retries every failure matching a filter (e.g. all parts parked by a chain outage), a few at a time.
// The matching parts are listed first and then retried, so a part that fails again while the batch
// runs is not retried twice by the same request.
import { listFailures } from '../../db/failed-steps.js';
import type { FailureFilter, FailureRow } from '../../db/failed-steps.js';
import { sendDecision } from './decisions.js';
import type { OpsDeps } from './decisions.js';
import { isCoded } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';

export type RetryOutcome =
  | { partId: string; stepId: string; outcome: 'retried' }
  /** The part was no longer parked on that step (someone else acted, or it moved on). */
  | { partId: string; stepId: string; outcome: 'skipped'; code: string; message: string }
  | { partId: string; stepId: string; outcome: 'error'; code: string; message: string };

export interface BulkRetrySummary {
  matched: number;
  retried: number;
  skipped: number;
  errors: number;
  /** Every failure that was not retried, with why. */
  notRetried: Exclude<RetryOutcome, { outcome: 'retried' }>[];
}

export interface BulkRetryOptions {
  actor: string;
  reason?: string;
  /** At most this many failures per request. */
  max: number;
  concurrency?: number;
  /** Called after each part, e.g. to stream progress. */
  onOutcome?: (outcome: RetryOutcome, done: number, total: number) => unknown;
}

async function matching(deps: OpsDeps, filter: FailureFilter, max: number): Promise<FailureRow[]> {
  const found: FailureRow[] = [];
  let after: Parameters<typeof listFailures>[2]['after'];
  do {
    const page = await listFailures(deps.db, filter, { limit: Math.min(500, max - found.length), after });
    found.push(...page.rows);
    after = page.next;
  } while (after && found.length < max);
  return found;
}

export async function retryFailures(deps: OpsDeps, filter: FailureFilter, options: BulkRetryOptions): Promise<BulkRetrySummary> {
  const targets = await matching(deps, { ...filter, partStatus: ['parked'] }, options.max);
  const summary: BulkRetrySummary = { matched: targets.length, retried: 0, skipped: 0, errors: 0, notRetried: [] };
  let next = 0;
  let done = 0;
  const retryOne = async (target: FailureRow): Promise<RetryOutcome> => {
    const where = { partId: target.partId, stepId: target.stepId };
    try {
      await sendDecision(deps, target.partId, { action: 'retry', step: target.stepId, actor: options.actor, reason: options.reason });
      return { ...where, outcome: 'retried' };
    } catch (error) {
      if (isCoded(error, Errors.part_not_parked, Errors.step_not_failed, Errors.part_not_active)) {
        return { ...where, outcome: 'skipped', code: error.code, message: error.message };
      }
      const code = isCoded(error) ? error.code : Errors.internal_error.code;
      return { ...where, outcome: 'error', code, message: (error as Error).message };
    }
  };
  const worker = async () => {
    while (next < targets.length) {
      const outcome = await retryOne(targets[next++]!);
      done += 1;
      if (outcome.outcome === 'retried') summary.retried += 1;
      else {
        summary[outcome.outcome === 'skipped' ? 'skipped' : 'errors'] += 1;
        summary.notRetried.push(outcome);
      }
      await options.onOutcome?.(outcome, done, targets.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 16, targets.length) }, worker));
  return summary;
}
