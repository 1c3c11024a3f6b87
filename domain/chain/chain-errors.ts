// Telling an unreachable chain apart from everything else. viem wraps transport failures in the
// error of the call that met them (e.g. ContractFunctionExecutionError around HttpRequestError); ops
// filtering parked steps after an outage want one plain code for all of them.
import { BaseError, HttpRequestError, TimeoutError, WebSocketRequestError } from 'viem';
import { StepRejection } from '../errors/step-rejections.js';

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
