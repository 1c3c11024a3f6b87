// Activity options and failure descriptions shared by the part workflows. Pure: workflow sandbox.
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { ActivityOptions, LocalActivityOptions } from '@temporalio/workflow';
import type { CompiledStep } from './definition.js';
import type { ActivityPolicy } from './types.js';

/** The temporal.yaml policy, with a step's own timeout and retry settings over it. */
export function activityOptions(policy: ActivityPolicy, step?: CompiledStep): ActivityOptions & LocalActivityOptions {
  const retry = step?.retry ?? {};
  return {
    startToCloseTimeout: step?.timeoutMs ?? policy.startToCloseTimeoutMs,
    retry: {
      initialInterval: retry.initialIntervalMs ?? policy.retry.initialIntervalMs,
      backoffCoefficient: retry.backoffCoefficient ?? policy.retry.backoffCoefficient,
      maximumInterval: retry.maximumIntervalMs ?? policy.retry.maximumIntervalMs,
      maximumAttempts: retry.maximumAttempts ?? policy.retry.maximumAttempts,
      nonRetryableErrorTypes: [...policy.retry.nonRetryableErrorTypes, ...(retry.nonRetryableErrorCodes ?? [])],
    },
  };
}

/** The error code and message of a failed activity, for the step state and the SQL mirror. */
export function describeFailure(error: unknown): { code: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'ApplicationFailure', message: cause.message };
  if (cause instanceof Error) return { code: cause.name, message: cause.message };
  return { code: 'UnknownError', message: String(cause) };
}
