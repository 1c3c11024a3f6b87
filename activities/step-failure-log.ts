// One log line per expected step failure. A step rejection (a RoleMismatch, a CertificationFailed,
// a contract's revert) is an outcome the part records and an operator decides on, not a bug: its
// stack trace says nothing. Rejections are BENIGN failures (step-failures.ts), which the SDK logs at
// DEBUG only; this interceptor logs each as one line instead. Any other error keeps the SDK's
// warning with its stack.
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { Logger } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';

/** A failure raised on purpose: non-retryable and BENIGN, as `stepRejected` makes them. */
export function isExpectedStepFailure(error: unknown): error is ApplicationFailure {
  return error instanceof ApplicationFailure && error.nonRetryable === true && error.category === ApplicationFailureCategory.BENIGN;
}

/** The part and step a step activity works on (its `StepCall`), when the input is one. */
function stepOf(args: unknown[]): { partId?: unknown; stepId?: unknown } {
  const [first] = args;
  return typeof first === 'object' && first !== null ? (first as { partId?: unknown; stepId?: unknown }) : {};
}

/** The line logged for an expected failure, e.g. `step failed: part urn:x step ship RoleMismatch: …`. */
export function stepFailureLine(activityType: string, args: unknown[], failure: ApplicationFailure): string {
  const { partId, stepId } = stepOf(args);
  const where =
    typeof partId === 'string'
      ? `part ${partId} step ${typeof stepId === 'string' ? stepId : `(${activityType})`}`
      : `activity ${activityType}`;
  return `step failed: ${where} ${failure.type ?? 'Error'}: ${failure.message}`;
}

/** The worker's activity interceptor: logs each expected failure as one WARN line, without metadata. */
export function stepFailureLogging(logger: Logger): ActivityInterceptorsFactory {
  return (ctx) => {
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (error) {
          if (isExpectedStepFailure(error)) logger.warn(stepFailureLine(ctx.info.activityType, input.args, error));
          throw error;
        }
      },
    };
    return { inbound };
  };
}
