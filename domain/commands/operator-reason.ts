// An operator's reason is stored in the audit row: refused up front when SQL could not store it or
// a log could not show it, so no action goes ahead on a reason that fails afterwards.
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';

/** Control characters other than tab and line breaks (NUL among them: PostgreSQL text cannot hold it). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
export const MAX_REASON_LENGTH = 2_000;

export function checkOperatorReason(reason: string | undefined): void {
  if (reason === undefined) return;
  if (CONTROL.test(reason)) throw new CodedError(Errors.invalid_reason, { problem: 'control characters (such as NUL) are not allowed' });
  if (reason.length > MAX_REASON_LENGTH)
    throw new CodedError(Errors.invalid_reason, { problem: `at most ${MAX_REASON_LENGTH} characters, got ${reason.length}` });
}
