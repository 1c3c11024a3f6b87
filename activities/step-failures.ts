// Typed activity errors. Temporal uses an error's `name` (or an ApplicationFailure's `type`) as its
// failure type: that is the error code the workflow records, ops see, and `nonRetryableErrorCodes`
// in a lifecycle definition refers to.
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { ContractRevertError } from '../domain/chain/tx-sender.js';
import { StepRejection } from '../domain/errors/step-rejections.js';
import type { StepRejectionType } from '../domain/errors/step-rejections.js';

export { StepRejection } from '../domain/errors/step-rejections.js';

/** A participant id that is not registered: retrying cannot help. */
export class UnknownParticipantError extends Error {
  override name = StepRejection.UnknownParticipant;
  constructor(readonly participantId: string) {
    super(`unknown participant "${participantId}"`);
  }
}

/** The chain disagrees with what the step expects (e.g. the token is held by someone else). */
export class PartConflictError extends Error {
  override name = StepRejection.PartConflict;
}

/**
 * A step that cannot succeed as things stand (a rule of the contract, a missing certificate, an
 * ambiguous role): it fails at once, without retries, and waits for an operator. BENIGN: an expected
 * outcome, so the worker logs it as one line (step-failure-log.ts), not as a warning with a stack.
 */
export function stepRejected(code: StepRejectionType, message: string): ApplicationFailure {
  return rejection(code, message);
}

function rejection(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, category: ApplicationFailureCategory.BENIGN });
}

/** A call the contract refuses is a rule, not an outage: reject the step with the contract's error name. */
export async function rejectingReverts<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof ContractRevertError && error.errorName)
      throw contractRejected(error.errorName, `the contract refused: ${error.message}`);
    throw error;
  }
}

/** A step the contract refused, rejected with the contract's own error name (e.g. `NotHolder`, `PartIsBundled`). */
function contractRejected(errorName: string, message: string): ApplicationFailure {
  return rejection(errorName, message);
}
