// One difference `verify` found between the SQL mirror and the chain (its own module so the
// projection checks can build drift without importing the verifier that calls them).
export type DriftKind =
  'hash_mismatch' | 'chain_broken' | 'missing' | 'extra' | 'different' | 'projection' | 'anchor_mismatch' | 'step_tx_missing';

export interface Drift {
  kind: DriftKind;
  /** The mirrored row's sequence number (absent for a log the mirror lacks). */
  seq?: number;
  /** For `step_tx_missing`: the block recorded for the transaction (-1 when none was). */
  blockNumber: number;
  /** -1 for `step_tx_missing` (a transaction, not a log). */
  logIndex: number;
  txHash: string;
  message: string;
  /** For `step_tx_missing`: the part and step whose recorded transaction is not on chain as recorded. */
  partId?: string;
  stepId?: string;
  /** For `different`: each field where the mirror and the chain disagree. */
  fields?: { field: string; mirror: unknown; chain: unknown }[];
}
