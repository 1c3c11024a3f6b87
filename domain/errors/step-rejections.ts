// The failure types a step's activity fails with when it cannot succeed as things stand. Temporal
// records them in histories and the mirror stores them in SQL (a parked step's code, ops filters,
// a lifecycle's `nonRetryableErrorCodes`), so their values never change: they stay PascalCase
// Temporal types, apart from the catalogue's snake_case codes. A contract's revert is rejected
// with the contract's own error name (NotHolder, PartIsBundled, ...), not listed here.
export const StepRejection = {
  /** An assemble step with an empty component list. */
  NoComponents: 'NoComponents',
  /** A certificate reference that is neither a document id nor a SHA-256 hash. */
  InvalidDocumentReference: 'InvalidDocumentReference',
  DocumentNotFound: 'DocumentNotFound',
  DocumentDeleted: 'DocumentDeleted',
  /** The certificate document was sent by someone other than the certifying issuer. */
  DocumentNotFromIssuer: 'DocumentNotFromIssuer',
  DocumentKindMismatch: 'DocumentKindMismatch',
  DocumentVerificationFailed: 'DocumentVerificationFailed',
  /** The certificate document already certifies another part. */
  DocumentAnchoredElsewhere: 'DocumentAnchoredElsewhere',
  /** A certify step found the part lacking valid certificates. */
  CertificationFailed: 'CertificationFailed',
  PartNotOnChain: 'PartNotOnChain',
  /** The acting participant does not hold the part's token. */
  NotHolder: 'NotHolder',
  BundleNotFound: 'BundleNotFound',
  PartNotBundled: 'PartNotBundled',
  /** A named participant lacks the role the step requires. */
  RoleMismatch: 'RoleMismatch',
  /** Neither a role nor a participant says who receives the part. */
  NoRecipient: 'NoRecipient',
  NoParticipantForRole: 'NoParticipantForRole',
  /** Several participants hold the role; the step must name one. */
  AmbiguousRole: 'AmbiguousRole',
  /** A participant id that is not registered (the name of the error class that carried it first). */
  UnknownParticipant: 'UnknownParticipantError',
  /** The chain disagrees with what the step expects (e.g. the token is held by an unknown address). */
  PartConflict: 'PartConflictError',
  /** The JSON-RPC node could not be reached: retrying later can succeed (see domain/chain/chain-errors.ts). */
  ChainUnavailable: 'ChainUnavailableError',
} as const;

export type StepRejectionType = (typeof StepRejection)[keyof typeof StepRejection];
