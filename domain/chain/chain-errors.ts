// Reading viem's typed errors (walking the cause chain, never matching message text): an
// unreachable chain told apart from everything else, and what a node's refusal of a transaction
// says about its nonce.
import {
  BaseError,
  HttpRequestError,
  NonceTooHighError,
  NonceTooLowError,
  RpcRequestError,
  TimeoutError,
  WebSocketRequestError,
} from 'viem';
import { getNodeError } from 'viem/utils';
import { StepRejection } from '../errors/step-rejections.js';

// viem wraps transport failures in the error of the call that met them (e.g.
// ContractFunctionExecutionError around HttpRequestError); ops filtering parked steps after an
// outage want one plain code for all of them.

/** The JSON-RPC node could not be reached or did not answer: retrying later can succeed. */
export class ChainUnavailableError extends Error {
  override name = StepRejection.ChainUnavailable;
}

/** The error as a ChainUnavailableError when a transport failure caused it; otherwise unchanged. */
export function classifyChainError(error: unknown): unknown {
  if (!(error instanceof BaseError)) return error;
  const transport = error.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError || e instanceof WebSocketRequestError);
  if (!(transport instanceof BaseError)) return error;
  return new ChainUnavailableError(`the chain node is unavailable: ${transport.shortMessage}`, { cause: error });
}

// eth_sendRawTransaction answers a refusal with a JSON-RPC error (anvil: code -32003, which viem
// raises as TransactionRejectedRpcError around the RpcRequestError that carries the node's words);
// viem's getNodeError maps those words to its node errors (NonceTooLowError, NonceTooHighError, ...)
// as it does for the transactions it sends itself. A chain that already holds such a typed error
// is read as is.

export type NonceRefusal = 'too_low' | 'too_high';

/**
 * `too_low` when the nonce is used (viem counts a node's "already known" / "transaction already
 * imported" as this too: the caller tells the two apart by asking whether the node holds its own
 * transaction), `too_high` when it is past the next one, undefined for any other failure.
 */
export function nonceRefusalOf(error: unknown): NonceRefusal | undefined {
  if (!(error instanceof BaseError)) return undefined;
  const typed = error.walk((e) => e instanceof NonceTooLowError || e instanceof NonceTooHighError) ?? nodeErrorOf(error);
  if (typed instanceof NonceTooLowError) return 'too_low';
  if (typed instanceof NonceTooHighError) return 'too_high';
  return undefined;
}

/** viem's typed node error for the JSON-RPC error in the chain, if there is one. */
function nodeErrorOf(error: BaseError): BaseError | undefined {
  const rpc = error.walk((e) => e instanceof RpcRequestError);
  return rpc instanceof RpcRequestError ? getNodeError(rpc, {}) : undefined;
}
