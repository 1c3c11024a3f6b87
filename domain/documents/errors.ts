// What can go wrong with a document, each with the machine-readable code the API answers with.

/** A check of a stored document failed: it was altered after its sender signed it. */
export type IntegrityCode =
  | 'metadata_invalid'
  | 'signature_invalid'
  | 'key_unwrap_failed'
  | 'ciphertext_tampered'
  | 'size_mismatch'
  | 'hash_mismatch'
  | 'index_mismatch';

export class DocumentIntegrityError extends Error {
  override name = 'DocumentIntegrityError';
  constructor(
    readonly code: IntegrityCode,
    message: string,
  ) {
    super(message);
  }
}

/** The plaintext is larger than the configured limit. */
export class DocumentTooLargeError extends Error {
  override name = 'DocumentTooLargeError';
  constructor(readonly limit: number) {
    super(`the document is larger than the limit of ${limit} bytes`);
  }
}

export class DocumentNotFoundError extends Error {
  override name = 'DocumentNotFoundError';
}

/** The version was deleted by its owner: its row (and any anchor) remains, its content does not. */
export class DocumentDeletedError extends Error {
  override name = 'DocumentDeletedError';
}
