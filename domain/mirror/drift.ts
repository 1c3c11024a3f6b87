// One difference `verify` found between the SQL mirror and the chain (its own module so the
// projection checks can build drift without importing the verifier that calls them).
export type DriftKind = 'hash_mismatch' | 'chain_broken' | 'missing' | 'extra' | 'different' | 'projection' | 'anchor_mismatch';

export interface Drift {
  kind: DriftKind;
  /** The mirrored row's sequence number (absent for a log the mirror lacks). */
  seq?: number;
  blockNumber: number;
  logIndex: number;
  txHash: string;
  message: string;
  /** For `different`: each field where the mirror and the chain disagree. */
  fields?: { field: string; mirror: unknown; chain: unknown }[];
}
