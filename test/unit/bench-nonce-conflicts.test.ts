// The `--workers` bench's nonce-conflict count: one per send the node refused for its nonce, however
// many times viem prints that error (the error and its cause each carry the request and its details).
import { describe, expect, it } from 'vitest';
import { nonceConflicts } from '../../tools/bench/nonce-conflicts.js';

const refusal = (rawTx: string, details: string) => `step mint failed: TransactionExecutionError: RPC Request failed.
  Request body: {"method":"eth_sendRawTransaction","params":["${rawTx}"]}
  Details: ${details}
      at withRetry (viem/utils/buildRequest.ts:199:25) {
    details: '${details}',
    cause: RpcRequestError: RPC Request failed.
    Request body: {"method":"eth_sendRawTransaction","params":["${rawTx}"]}
    Details: ${details}
      details: '${details}',
`;

describe('nonceConflicts', () => {
  it('counts each refused send once, by the signed transaction it carried', () => {
    const log = [
      refusal('0x02f8aa01', 'nonce too low'),
      'worker polling task queue tracewell-parts',
      refusal('0x02f8bb02', 'replacement transaction underpriced'),
      refusal('0x02f8aa01', 'nonce too low'), // the same send, logged again by a retry
    ].join('\n');
    expect(nonceConflicts(log)).toEqual([
      'nonce too low (signed tx 0x02f8aa01…)',
      'replacement transaction underpriced (signed tx 0x02f8bb02…)',
    ]);
  });

  it('finds none in a log without refusals, and does not count a re-broadcast the node already has', () => {
    expect(nonceConflicts('worker polling task queue tracewell-parts\n')).toEqual([]);
    expect(nonceConflicts(refusal('0x02f8cc03', 'already known'))).toEqual([]);
  });
});
