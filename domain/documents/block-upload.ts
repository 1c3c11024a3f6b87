// Streams bytes into a block blob as staged blocks and commits them, with the metadata, in one
// final call: the blob appears only once complete, envelope and all, and never half-written. Memory
// is at most (concurrency + 1) blocks, however large the blob.
import { Writable } from 'node:stream';
import type { BlockBlobClient } from '@azure/storage-blob';

export interface BlockUploadOptions {
  /** Bytes per staged block. */
  blockSize?: number;
  /** Blocks staged at once. */
  concurrency?: number;
}

export class BlockUpload extends Writable {
  private readonly blockSize: number;
  private readonly concurrency: number;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private readonly blockIds: string[] = [];
  private readonly staging = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly blob: BlockBlobClient,
    options: BlockUploadOptions = {},
  ) {
    super();
    this.blockSize = options.blockSize ?? 4 * 1024 * 1024;
    this.concurrency = options.concurrency ?? 2;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    if (this.bufferedBytes < this.blockSize) return callback();
    this.stageBuffered().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    (async () => {
      if (this.bufferedBytes > 0) await this.stageBuffered();
      await Promise.all(this.staging);
      if (this.failure) throw this.failure;
    })().then(() => callback(), callback);
  }

  /** Commits the staged blocks as the blob's content, with its metadata; answers the blob's ETag. */
  async commit(metadata: Record<string, string>): Promise<string> {
    const response = await this.blob.commitBlockList(this.blockIds, {
      metadata,
      blobHTTPHeaders: { blobContentType: 'application/octet-stream' },
    });
    return response.etag!;
  }

  /** Stages what is buffered as the next block, once fewer than `concurrency` blocks are in flight. */
  private async stageBuffered(): Promise<void> {
    while (this.staging.size >= this.concurrency) await Promise.race(this.staging);
    if (this.failure) throw this.failure;
    const block = Buffer.concat(this.buffered, this.bufferedBytes);
    this.buffered = [];
    this.bufferedBytes = 0;
    // Block ids must all have the same length within a blob.
    const id = Buffer.from(String(this.blockIds.length).padStart(8, '0')).toString('base64');
    this.blockIds.push(id);
    const staged = this.blob.stageBlock(id, block, block.length).then(
      () => {
        this.staging.delete(staged);
      },
      (error: unknown) => {
        this.staging.delete(staged);
        this.failure ??= error;
      },
    );
    this.staging.add(staged);
  }
}
