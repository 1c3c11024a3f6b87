// Reading viem's typed errors, built here as viem builds them for eth_sendRawTransaction
// (TransactionRejectedRpcError around an RpcRequestError carrying the node's words, as anvil answers),
// never a match on message text: nonce refusals and bare reverts.
import {
  ExecutionRevertedError,
  HttpRequestError,
  InternalRpcError,
  NonceTooHighError,
  NonceTooLowError,
  RpcRequestError,
  TransactionExecutionError,
  TransactionRejectedRpcError,
} from 'viem';
import { describe, expect, it } from 'vitest';
import { nonceRefusalOf } from '../../domain/chain/chain-errors.js';
import { ContractRevertError } from '../../domain/chain/tx-sender.js';

const url = 'http://127.0.0.1:8545';

/** What viem raises when the node refuses eth_sendRawTransaction with `code` and `message`. */
function refusal(message: string, code = -32003) {
  const rpc = new RpcRequestError({ body: { method: 'eth_sendRawTransaction', params: ['0x02'] }, error: { code, message }, url });
  return code === -32003 ? new TransactionRejectedRpcError(rpc) : new InternalRpcError(rpc);
}

describe('nonce refusals', () => {
  it('reads the node errors viem maps from a raw transaction refusal', () => {
    expect(nonceRefusalOf(refusal('nonce too low'))).toBe('too_low');
    expect(nonceRefusalOf(refusal('nonce too high'))).toBe('too_high');
    expect(nonceRefusalOf(refusal('Nonce too low', -32603))).toBe('too_low');
  });

  it('counts "already known" as a used nonce, as viem does (the sender asks the node whether it holds the bytes)', () => {
    expect(nonceRefusalOf(refusal('transaction already imported'))).toBe('too_low'); // anvil
    expect(nonceRefusalOf(refusal('already known', -32000))).toBe('too_low'); // geth
  });

  it('finds a typed node error anywhere in the cause chain', () => {
    const wrapped = new TransactionExecutionError(new NonceTooLowError({ nonce: 3 }), { account: null });
    expect(nonceRefusalOf(wrapped)).toBe('too_low');
    expect(nonceRefusalOf(new NonceTooHighError({ nonce: 9 }))).toBe('too_high');
  });

  it('leaves every other failure alone', () => {
    expect(nonceRefusalOf(refusal('replacement transaction underpriced'))).toBeUndefined();
    expect(nonceRefusalOf(refusal('insufficient funds for gas * price + value'))).toBeUndefined();
    expect(nonceRefusalOf(new HttpRequestError({ url, details: 'connect ECONNREFUSED' }))).toBeUndefined();
    // Words about a nonce in an untyped error are not a nonce refusal.
    expect(nonceRefusalOf(new Error('nonce too low'))).toBeUndefined();
    expect(nonceRefusalOf(undefined)).toBeUndefined();
  });
});

describe('contract reverts', () => {
  it('names a revert viem typed without decodable data, and nothing else', () => {
    const reverted = ContractRevertError.from(new ExecutionRevertedError({ message: 'execution reverted' }));
    expect(reverted).toBeInstanceOf(ContractRevertError);
    expect(reverted?.errorName).toBeUndefined();
    expect(ContractRevertError.from(refusal('nonce too low'))).toBeUndefined();
  });
});
