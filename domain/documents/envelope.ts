// The streaming stages that seal a document's plaintext for storage and open it again:
// plaintext -> SHA-256 and byte count -> compression (gzip, or none when a sample shows the content
// does not compress) -> AES-256-GCM under a fresh content key. Nothing holds the whole document:
// every stage streams, so memory stays flat however large it is.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { constants, createGunzip, createGzip, gzipSync } from 'node:zlib';
import type { Hex } from 'viem';
import { documentTooLarge, integrityFailure, isIntegrityFailure } from './document-errors.js';

export const HASH_ALGORITHM = 'sha-256';
export const CONTENT_ALGORITHM = 'aes-256-gcm';
export type Compression = 'gzip' | 'none';

/** Bytes of plaintext sampled to decide whether compressing is worth it. */
const SAMPLE_BYTES = 64 * 1024;
/** Compress only when the sample shrinks to at most this fraction (random or already compressed data does not). */
const WORTHWHILE_RATIO = 0.9;
const GZIP_LEVEL = 6;

/** The SHA-256 of a buffer as 0x-hex: the document hash of content held in memory. */
export function documentHashOf(content: Uint8Array): Hex {
  return `0x${createHash('sha256').update(content).digest('hex')}`;
}

/** Hashes and counts the bytes passing through; fails once more than `limit` have passed. */
class HashingMeter extends Transform {
  bytes = 0;
  private readonly hash: Hash = createHash('sha256');
  constructor(
    private readonly limit: number,
    private readonly overLimit: () => Error,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return callback(this.overLimit());
    this.hash.update(chunk);
    callback(null, chunk);
  }
  digest(): Hex {
    return `0x${this.hash.digest('hex')}`;
  }
}

/** Counts the bytes passing through. */
class Counter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

export interface SealedContent {
  hash: Hex;
  size: number;
  storedSize: number;
  compression: Compression;
  iv: Buffer;
  tag: Buffer;
}

/** Reads up to `bytes` from the iterator: the sample, kept to be passed on first. */
async function readHead(iterator: AsyncIterator<Buffer>, bytes: number): Promise<{ head: Buffer[]; ended: boolean }> {
  const head: Buffer[] = [];
  let read = 0;
  while (read < bytes) {
    const next = await iterator.next();
    if (next.done) return { head, ended: true };
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    head.push(chunk);
    read += chunk.length;
  }
  return { head, ended: false };
}

function compressionFor(sample: Buffer): Compression {
  if (sample.length === 0) return 'none';
  return gzipSync(sample, { level: GZIP_LEVEL }).length <= sample.length * WORTHWHILE_RATIO ? 'gzip' : 'none';
}

/**
 * Seals `plaintext` into `sink` under `contentKey`: the sink receives only ciphertext. Fails with
 * a `document_too_large` error once more than `maxBytes` of plaintext arrive.
 */
export async function sealContent(
  plaintext: AsyncIterable<Buffer>,
  sink: Writable,
  contentKey: Uint8Array,
  maxBytes: number,
): Promise<SealedContent> {
  const iterator = plaintext[Symbol.asyncIterator]();
  const { head, ended } = await readHead(iterator, SAMPLE_BYTES);
  const compression = compressionFor(Buffer.concat(head));
  const body = Readable.from(
    (async function* () {
      yield* head;
      if (ended) return;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    })(),
    { objectMode: false },
  );
  const meter = new HashingMeter(maxBytes, () => documentTooLarge(maxBytes));
  const iv = randomBytes(12);
  const cipher = createCipheriv(CONTENT_ALGORITHM, contentKey, iv);
  const stored = new Counter();
  const stages = compression === 'gzip' ? [meter, createGzip({ level: GZIP_LEVEL }), cipher, stored] : [meter, cipher, stored];
  await pipeline([body, ...stages, sink]);
  return { hash: meter.digest(), size: meter.bytes, storedSize: stored.bytes, compression, iv, tag: cipher.getAuthTag() };
}

export interface OpenParams {
  contentKey: Uint8Array;
  iv: Buffer;
  tag: Buffer;
  compression: Compression;
  /** The plaintext size the sender signed for; more is an alteration (and a decompression bomb). */
  size: number;
  hash: Hex;
}

/** Says what a failure of the opening stages means: altered ciphertext, or content that is not what was signed. */
export function asIntegrityFailure(error: unknown): unknown {
  if (isIntegrityFailure(error)) return error;
  const message = (error as Error).message ?? String(error);
  const code = (error as NodeJS.ErrnoException).code;
  // GCM's tag check (at the end) or the decompressor choking on altered bytes (often sooner).
  // Only the decipher's and the decompressor's own failures: a storage error (a 403 "failed to
  // authenticate" included) is not the document's fault and stays what it is.
  if (
    /^Unsupported state or unable to authenticate data$/.test(message) ||
    (typeof code === 'string' && code.startsWith('Z_')) ||
    (error as { errno?: number }).errno === constants.Z_DATA_ERROR
  ) {
    return integrityFailure('ciphertext_tampered', `the stored ciphertext does not authenticate: it was altered (${message})`);
  }
  return error;
}

/**
 * The stages that turn stored ciphertext back into the signed plaintext, checking on the way: GCM
 * authenticates the ciphertext, the size may not exceed what was signed, and at the end the SHA-256
 * must equal the signed hash. `asIntegrityFailure` names what a failure of these stages means.
 */
export function openingStages(params: OpenParams): Transform[] {
  const decipher = createDecipheriv(CONTENT_ALGORITHM, params.contentKey, params.iv);
  decipher.setAuthTag(params.tag);
  const meter = new HashingMeter(params.size, () =>
    integrityFailure('size_mismatch', `the content is longer than the ${params.size} bytes its sender signed for`),
  );
  const check = new Transform({
    transform(chunk, _encoding, callback) {
      callback(null, chunk);
    },
    flush(callback) {
      if (meter.bytes !== params.size)
        return callback(integrityFailure('size_mismatch', `the content has ${meter.bytes} bytes, its sender signed for ${params.size}`));
      const actual = meter.digest();
      if (actual !== params.hash.toLowerCase())
        return callback(integrityFailure('hash_mismatch', `the content hashes to ${actual}, its sender signed ${params.hash}`));
      callback();
    },
  });
  return params.compression === 'gzip' ? [decipher, createGunzip(), meter, check] : [decipher, meter, check];
}
