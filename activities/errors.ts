// Typed activity errors. Temporal uses an error's `name` as its failure type, so the names below are
// what temporal.yaml's `nonRetryableErrorTypes` and the API's error mapping refer to.

/** A participant id that is not registered: retrying cannot help. */
export class UnknownParticipantError extends Error {
  override name = 'UnknownParticipantError';
  constructor(readonly participantId: string) {
    super(`unknown participant "${participantId}"`);
  }
}

/** The chain disagrees with what the step expects (e.g. the token is held by someone else). */
export class PartConflictError extends Error {
  override name = 'PartConflictError';
}
