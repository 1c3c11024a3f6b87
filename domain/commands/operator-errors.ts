// Why an operator action was refused, with a machine-readable code the API and CLI show as is.
export type OperatorErrorCode =
  | 'part_not_found'
  | 'part_not_active'
  | 'part_not_parked'
  | 'part_completed'
  | 'step_not_failed'
  | 'invalid_decision'
  | 'invalid_step_params'
  | 'invalid_reset_point';

export class OperatorError extends Error {
  override name = 'OperatorError';
  constructor(
    readonly code: OperatorErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
