// Benchmark of the HTTP API's own layer on the embedded stack: how long building the app and its
// OpenAPI document takes, how big the document is, and the latency of requests that stop in the
// route definitions (authentication, the JSON guard, schema validation) or go a little further.
//   npm run bench:api [-- --requests 2000]
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createApi } from '../../api/app.js';
import { apiDepsOf } from '../../app/wiring/api-server.js';
import { stopOnSignal } from '../../app/wiring/shutdown.js';
import { freePortStackConfig, startStack } from '../../app/wiring/stack.js';
import { BENCH_ADMIN_API_KEY, benchEnvironment, percentile, runBenchmark } from './support.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '2000' } } });
const requests = Number(values.requests);
if (!Number.isSafeInteger(requests) || requests < 100)
  throw new Error(`--requests: a whole number of at least 100, got "${values.requests}"`);

const auth = { authorization: `Bearer ${BENCH_ADMIN_API_KEY}` };
const json = { ...auth, 'content-type': 'application/json' };

/** Sends `request` `n` times one after another; p50 and p99 in ms, checking every status. */
async function latency(n: number, expected: number, request: () => Promise<Response>): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const response = await request();
    await response.arrayBuffer();
    times.push(performance.now() - t0);
    if (response.status !== expected) throw new Error(`expected ${expected}, got ${response.status}`);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const bench = await benchEnvironment();
  const { config, temporal } = freePortStackConfig(bench.env);
  const stack = await startStack({ config, temporal, startTemporal: true });
  stopOnSignal(stack.stop);
  try {
    // The app the stack serves, built again: its routes, the undocumented-route check, the document.
    const builds: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      createApi(apiDepsOf(stack.core, stack.client, temporal));
      builds.push(performance.now() - t0);
    }
    builds.sort((a, b) => a - b);
    const document = await (await fetch(`${stack.apiUrl}/openapi.json`)).text();
    const parsed = JSON.parse(document) as { paths: Record<string, object>; components: { schemas: object } };
    const operations = Object.values(parsed.paths).reduce((sum, item) => sum + Object.keys(item).length, 0);

    const url = (path: string) => `${stack.apiUrl}${path}`;
    const cases: Array<[string, number, () => Promise<Response>]> = [
      ['GET /participants/me (auth only)', 200, () => fetch(url('/participants/me'), { headers: auth })],
      [
        'POST /parts, a value of the wrong type (400)',
        400,
        () =>
          fetch(url('/parts'), {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ id: 'urn:bench:1', lifecycle: 'part-basic', version: 'two' }),
          }),
      ],
      ['POST /parts, malformed JSON (400)', 400, () => fetch(url('/parts'), { method: 'POST', headers: json, body: '{"id":' })],
      [
        'POST /parts, not JSON (415)',
        415,
        () => fetch(url('/parts'), { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'id=1' }),
      ],
      ['GET /events?limit=10 (query validated, SQL)', 200, () => fetch(url('/events?limit=10'), { headers: auth })],
      ['GET /openapi.json', 200, () => fetch(url('/openapi.json'))],
    ];
    await latency(200, 200, cases[0]![2]); // warm-up: connections, JIT

    console.log(`Tracewell API layer benchmark: ${requests} sequential requests per case`);
    console.log(
      `  app build (routes, route check, OpenAPI document)   p50 ${percentile(builds, 50).toFixed(1)} ms, max ${builds.at(-1)!.toFixed(1)} ms`,
    );
    console.log(
      `  /openapi.json   ${(Buffer.byteLength(document) / 1024).toFixed(0)} KiB, ${Object.keys(parsed.paths).length} paths, ${operations} operations, ${Object.keys(parsed.components.schemas).length} schemas`,
    );
    for (const [name, status, request] of cases) {
      const { p50, p99 } = await latency(requests, status, request);
      console.log(`  ${name.padEnd(46)} p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms`);
    }
  } finally {
    await stack.stop();
    await bench.cleanup();
  }
}

runBenchmark(main);
