// Nonce conflicts in a worker's log: sends the node refused because another sender had used (or was
// using) the nonce. `--workers N` counts them; with one nonce authority per signer there are none.

/** Messages a node or the sender gives when two senders use one nonce. */
export const NONCE_CONFLICT = /nonce too low|nonce has already been used|replacement transaction underpriced|NonceTooLow/i;

/**
 * One line per send the node refused for its nonce: viem prints an error and its cause, each with the
 * request body and its `Details`, so refusals are told apart by the signed transaction they carried.
 */
export function nonceConflicts(log: string): string[] {
  const refused = new Map<string, string>();
  let rawTx = '';
  log.split('\n').forEach((line, index) => {
    const body = /eth_sendRawTransaction","params":\["(0x[0-9a-f]+)"/.exec(line);
    if (body) rawTx = body[1]!;
    const conflict = NONCE_CONFLICT.exec(line);
    if (conflict) refused.set(rawTx || `line ${index}`, `${conflict[0]}${rawTx ? ` (signed tx ${rawTx.slice(0, 18)}…)` : ''}`);
  });
  return [...refused.values()];
}
