// eth_getLogs over a block range, in spans a node accepts: hosted nodes refuse wide ranges (or too
// many results), so a refused span is halved until it passes, and grows back after successes.
import { BaseError, HttpRequestError, TimeoutError } from 'viem';
import type { Address } from 'viem';
import type { ChainClient } from '../chain/connection.js';
import type { MinedLog } from './event-projection.js';

export class LogReader {
  private span: bigint;

  constructor(
    private readonly client: ChainClient,
    private readonly address: Address,
    private readonly maxSpan: number,
    private readonly log?: (line: string) => void,
  ) {
    this.span = BigInt(Math.max(1, maxSpan));
  }

  /** The last block the next read from `from` will ask for, at most `to`. */
  end(from: bigint, to: bigint): bigint {
    const end = from + this.span - 1n;
    return end < to ? end : to;
  }

  /** Every block from `from` to `to`, a span at a time, each with its logs. */
  async *spans(from: bigint, to: bigint): AsyncGenerator<{ from: bigint; to: bigint; logs: MinedLog[] }> {
    for (let start = from; start <= to;) {
      const read = await this.read(start, to);
      yield { from: start, to: read.to, logs: read.logs };
      start = read.to + 1n;
    }
  }

  /** The logs of `from`..`to` (at most one span): returns how far it read, which is less when the node refused. */
  async read(from: bigint, to: bigint): Promise<{ to: bigint; logs: MinedLog[] }> {
    let end = this.end(from, to);
    for (let refused = false; ; refused = true) {
      try {
        const logs = (await this.client.getLogs({ address: this.address, fromBlock: from, toBlock: end })) as MinedLog[];
        // Grows back only after a read the node took at once, so a refused span is not retried at once.
        if (!refused && this.span < BigInt(this.maxSpan))
          this.span = this.span * 2n < BigInt(this.maxSpan) ? this.span * 2n : BigInt(this.maxSpan);
        return { to: end, logs };
      } catch (error) {
        if (end === from || unavailable(error)) throw error;
        const span = (end - from + 1n) / 2n;
        this.span = span > 0n ? span : 1n;
        this.log?.(`eth_getLogs refused ${end - from + 1n} blocks (${(error as Error).message.split('\n')[0]}); trying ${this.span}`);
        end = from + this.span - 1n;
      }
    }
  }
}

/**
 * The node did not answer (down, overloaded, rate limiting): a narrower range would not help, the
 * caller's backoff will. A node that answers with an error, or a 4xx, may be refusing the range.
 */
function unavailable(error: unknown): boolean {
  if (!(error instanceof BaseError)) return false;
  return Boolean(
    error.walk(
      (cause) =>
        cause instanceof TimeoutError ||
        (cause instanceof HttpRequestError && (cause.status === undefined || cause.status === 429 || cause.status >= 500)),
    ),
  );
}
