// A JSON-RPC forwarder in front of the test chain that can cut the connection, so tests cause a
// real chain outage for one stack without stopping the anvil other test files share. `drop-after-send`
// passes the next transaction broadcast through and then goes down: the transaction lands on chain
// while its sender never hears back.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type GateMode = 'open' | 'down' | 'drop-after-send';

export interface RpcGate {
  url: string;
  mode: GateMode;
  /** Transactions broadcast through the gate. */
  sent: string[];
  /** Refuse eth_getLogs over more blocks than this, as hosted nodes do (unset: no limit). */
  maxLogRange?: number;
  /** eth_getLogs calls refused for their range. */
  refusedLogRanges: number;
  close(): Promise<void>;
}

export async function startRpcGate(upstream: string): Promise<RpcGate> {
  const gate = { mode: 'open' as GateMode, sent: [] as string[], maxLogRange: undefined as number | undefined, refusedLogRanges: 0 };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    const relay = async () => {
      if (gate.mode === 'down') {
        response.writeHead(503, { 'content-type': 'text/plain' }).end('chain unavailable');
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const calls = [JSON.parse(body)].flat() as { method: string; params: unknown[] }[];
      const sends = calls.filter((call) => call.method === 'eth_sendRawTransaction');
      const tooWide = calls.find(
        (call) => call.method === 'eth_getLogs' && gate.maxLogRange !== undefined && logRange(call.params[0]) > gate.maxLogRange,
      );
      if (tooWide) {
        gate.refusedLogRanges += 1;
        const error = { code: -32602, message: `query exceeds max block range ${gate.maxLogRange}` };
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ jsonrpc: '2.0', id: (tooWide as { id?: unknown }).id ?? null, error }));
        return;
      }
      try {
        const answer = await fetch(upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const text = await answer.text();
        if (sends.length > 0) {
          gate.sent.push(...sends.map((call) => String(call.params[0])));
          if (gate.mode === 'drop-after-send') {
            gate.mode = 'down';
            response.writeHead(503).end('connection lost');
            return;
          }
        }
        response.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
      } catch (error) {
        response.writeHead(502).end(String(error));
      }
    };
    // A body that is not JSON-RPC is answered 502 like a failed relay, never left as an unhandled rejection.
    request.on('end', () => {
      relay().catch((error: unknown) => response.writeHead(502).end(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(gate, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Blocks an eth_getLogs filter spans (numbered blocks only). */
function logRange(filter: unknown): number {
  const { fromBlock, toBlock } = (filter ?? {}) as { fromBlock?: string; toBlock?: string };
  if (!fromBlock?.startsWith('0x') || !toBlock?.startsWith('0x')) return 0;
  return Number(BigInt(toBlock) - BigInt(fromBlock)) + 1;
}
