// `npm run bench:documents [-- --mb 100]`: uploads a large document over HTTP on the embedded stack
// (Azurite for blob storage) and downloads it again as its recipient, streaming on both sides, and
// prints throughput and the process's peak memory for each phase. Two contents: random bytes (the
// vault finds they do not compress and stores them as they are) and text (gzip). A benchmark, not a test.
import { createCipheriv, createHash, type Hash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { eq } from 'drizzle-orm';
import { documents } from '../../db/schema.js';
import { stopOnSignal } from '../../app/wiring/shutdown.js';
import { freePortStackConfig, startStack } from '../../app/wiring/stack.js';
import { BENCH_ADMIN_API_KEY, benchEnvironment, runBenchmark } from './support.js';

const { values } = parseArgs({ options: { mb: { type: 'string', default: '100' } } });
const MIB = 1024 * 1024;
const size = Number(values.mb) * MIB;
const CHUNK = 256 * 1024;

/** `size` bytes of content, made chunk by chunk: random (an AES-CTR keystream) or repetitive text. */
function content(kind: 'random' | 'text'): ReadableStream<Uint8Array> {
  const keystream = createCipheriv('aes-256-ctr', Buffer.alloc(32, 7), Buffer.alloc(16));
  const line = Buffer.from('lot 42, unit 0001: visual ok, x-ray ok, electrical ok, burn-in 48 h ok\n');
  const textChunk = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i += line.length) line.copy(textChunk, i);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      const n = Math.min(CHUNK, size - sent);
      controller.enqueue(kind === 'random' ? keystream.update(Buffer.alloc(n)) : Buffer.from(textChunk.subarray(0, n)));
      sent += n;
    },
  });
}

/** Peak RSS while `work` runs, sampled every 10 ms (the same process serves the API). */
async function measured<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number; peakRss: number; baseRss: number }> {
  const baseRss = process.memoryUsage.rss();
  let peakRss = baseRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 10);
  const t0 = performance.now();
  try {
    const result = await work();
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    return { result, seconds: (performance.now() - t0) / 1000, peakRss, baseRss };
  } finally {
    clearInterval(sampler);
  }
}

const mb = (bytes: number) => (bytes / MIB).toFixed(0);

type Stack = Awaited<ReturnType<typeof startStack>>;
type Measure = { seconds: number; peakRss: number; baseRss: number };

/** The embedded stack with ephemeral ports and a document limit just above `size`. */
async function startBenchStack(benchEnv: NodeJS.ProcessEnv): Promise<Stack> {
  const { config, temporal } = freePortStackConfig({ DOCUMENT_MAX_BYTES: String(size + MIB), ...benchEnv });
  return startStack({ config, temporal, startTemporal: true });
}

async function apiKeyOf(stack: Stack, participant: string): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/participants/${participant}/api-keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${BENCH_ADMIN_API_KEY}`, 'content-type': 'application/json' },
    body: '{}',
  });
  return ((await response.json()) as any).apiKey.key as string;
}

/** Streams `size` bytes of `kind` content up, hashing what it sends into `expected`; returns the stored document. */
async function uploadDocument(stack: Stack, sender: string, kind: 'random' | 'text', expected: Hash): Promise<any> {
  const url = new URL(`${stack.apiUrl}/documents?folder=bench&name=${kind}.bin&kind=quality&recipients=acme-foundry`);
  // node:http, not fetch: Node 20's fetch keeps every chunk of a streamed request body until the
  // request is collected, which would charge the client's copy to the server.
  const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${sender}`, 'content-type': 'application/octet-stream', 'content-length': String(size) },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, text }));
      },
    );
    request.on('error', reject);
    const source = Readable.fromWeb(content(kind) as NodeReadableStream<Uint8Array>);
    source.on('data', (chunk: Buffer) => expected.update(chunk));
    source.pipe(request);
  });
  if (answer.status !== 201) throw new Error(`upload: ${answer.status} ${answer.text}`);
  return JSON.parse(answer.text);
}

/** Downloads the document as its recipient, checks size and hash; returns how the server checked the hash. */
async function downloadDocument(stack: Stack, recipient: string, stored: { id: string; hash: string }): Promise<string | null> {
  const response = await fetch(`${stack.apiUrl}/documents/${stored.id}`, { headers: { authorization: `Bearer ${recipient}` } });
  if (response.status !== 200) throw new Error(`download: ${response.status} ${await response.text()}`);
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  if (bytes !== size || `0x${hash.digest('hex')}` !== stored.hash) throw new Error('download: the content differs');
  return response.headers.get('tracewell-hash-check');
}

function printRow(kind: string, label: string, m: Measure): void {
  console.log(
    `${kind.padEnd(9)} ${label.padEnd(30)} ${(size / MIB / m.seconds).toFixed(1).padStart(6)}  ${m.seconds.toFixed(2).padStart(8)}  ${mb(m.peakRss).padStart(14)}  ${mb(m.peakRss - m.baseRss).padStart(11)}`,
  );
}

/** Upload, then a download the cached verification serves, then one that recomputes the hash. */
async function benchContent(stack: Stack, sender: string, recipient: string, kind: 'random' | 'text'): Promise<void> {
  const expected = createHash('sha256');
  const upload = await measured(() => uploadDocument(stack, sender, kind, expected));
  const stored = upload.result;
  if (stored.hash !== `0x${expected.digest('hex')}`) throw new Error(`upload: the vault hashed ${stored.hash}`);

  const download = () => downloadDocument(stack, recipient, stored);
  const cached = await measured(download);
  // Forget the ETag last verified: the next read recomputes the hash in a full pass first.
  await stack.core.database.db.update(documents).set({ verifiedEtag: null }).where(eq(documents.id, stored.id));
  const full = await measured(download);

  printRow(kind, `upload (stored ${mb(stored.storedSize)} MiB)`, upload);
  printRow(kind, `download (hash ${cached.result})`, cached);
  printRow(kind, `download (hash ${full.result})`, full);
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const bench = await benchEnvironment();
  const stack = await startBenchStack(bench.env);
  stopOnSignal(stack.stop);
  try {
    const [sender, recipient] = [await apiKeyOf(stack, 'tuv-assurance'), await apiKeyOf(stack, 'acme-foundry')];
    console.log(
      `document vault, ${mb(size)} MiB per document, over HTTP on loopback, Azurite in memory; peak RSS of the process serving the API`,
    );
    console.log('content   phase                          MB/s    seconds  peak RSS (MiB)  above start');
    for (const kind of ['random', 'text'] as const) await benchContent(stack, sender, recipient, kind);
  } finally {
    await stack.stop();
    await bench.cleanup();
  }
}

runBenchmark(main);
