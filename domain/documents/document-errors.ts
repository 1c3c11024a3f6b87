// What can go wrong with a document, as catalogue errors (domain/errors/catalogue.ts).
import { CodedError, isCoded } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';

/** The checks of a stored document: each failure means it was altered after its sender signed it. */
const INTEGRITY = [
  Errors.metadata_invalid,
  Errors.signature_invalid,
  Errors.key_unwrap_failed,
  Errors.ciphertext_tampered,
  Errors.size_mismatch,
  Errors.hash_mismatch,
  Errors.index_mismatch,
] as const;

export type IntegrityCode = (typeof INTEGRITY)[number]['code'];

/** A failed check; `problem` says what the check found (GET /documents/:id/verify reports it as is). */
export function integrityFailure(code: IntegrityCode, problem: string): CodedError {
  return new CodedError(Errors[code], { problem });
}

export function isIntegrityFailure(error: unknown): error is CodedError {
  return isCoded(error, ...INTEGRITY);
}

/** The plaintext is larger than the configured limit. */
export function documentTooLarge(limit: number): CodedError {
  return new CodedError(Errors.document_too_large, { limit }, { limit });
}
