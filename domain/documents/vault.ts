// The document vault: documents kept in Azure Blob storage under /{owner}/{folder}/{name}/{id}, each
// blob only ciphertext, its metadata the signed envelope (see metadata.ts). Storing hashes, signs,
// compresses and encrypts in one streaming pass; opening and verifying check every layer back.
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable, pipeline as streamPipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerClient } from '@azure/storage-blob';
import type { Address, Hex } from 'viem';
import type { Db } from '../../db/client.js';
import { deleteDocumentRow, getDocument, insertDocumentVersion, setVerifiedEtag } from '../../db/documents.js';
import type { DocumentRow } from '../../db/documents.js';
import { findParticipant } from '../../db/participants.js';
import type { Participant } from '../../db/participants.js';
import type { KeyStore } from '../participants/keystore.js';
import { SealedBoxError, sealTo } from '../participants/sealed-box.js';
import { BlockUpload } from './block-upload.js';
import { asIntegrityFailure, openingStages, sealContent } from './envelope.js';
import { integrityFailure, isIntegrityFailure } from './document-errors.js';
import { CodedError, isCoded } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';
import type { IntegrityCode } from './document-errors.js';
import { currentAlgorithms, fromBlobMetadata, statementOf, toBlobMetadata } from './metadata.js';
import type { DocumentEnvelope, Party } from './metadata.js';
import { recoverDocumentSigner, signDocument } from './signature.js';

export interface VaultOptions {
  container: ContainerClient;
  db: Db;
  keys: KeyStore;
  /** Signatures name the chain, so a statement made for one network is not taken for another. */
  chainId: number;
  /** Largest plaintext accepted, in bytes. */
  maxBytes: number;
  blockSize?: number;
  concurrency?: number;
}

export interface StoreRequest {
  sender: Participant;
  folder: string;
  name: string;
  kind: string;
  contentType: string;
  recipients: Participant[];
  content: AsyncIterable<Buffer>;
}

export interface CheckResult {
  ok: boolean;
  code?: IntegrityCode | 'content_missing';
  message?: string;
}

/** What a full check of a stored document found, layer by layer. */
export interface DocumentCheck {
  row: DocumentRow;
  envelope?: DocumentEnvelope;
  metadata: CheckResult;
  signature: CheckResult & { signer?: Address };
  content: CheckResult & { hash?: Hex; size?: number };
  /** Every layer holds: the content is what the sender signed. */
  ok: boolean;
}

export interface OpenedDocument {
  row: DocumentRow;
  envelope: DocumentEnvelope;
  /** The plaintext; it errors (and stops) should the content turn out not to be what was signed. */
  content: Readable;
  /** `recomputed`: the hash was recomputed just now; `unchanged`: the blob keeps the ETag at which it was. */
  hashCheck: 'recomputed' | 'unchanged';
}

const partyOf = (participant: Participant): Party => ({ id: participant.id, address: participant.address.toLowerCase() as Address });

const skipped = (message: string): CheckResult => ({ ok: false, message });

export class DocumentVault {
  constructor(private readonly options: VaultOptions) {}

  /** Creates the container when it does not exist yet. */
  async ensureContainer(): Promise<void> {
    await this.options.container.createIfNotExists();
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** Seals the content to the sender and each recipient, signs it as the sender and stores it as the path's next version. */
  async store(request: StoreRequest): Promise<DocumentRow> {
    const { container, db, keys, chainId, maxBytes } = this.options;
    const { sender, folder, name } = request;
    const parties = [sender, ...request.recipients];
    for (const party of parties) {
      if (!party.documentPublicKey) throw new Error(`participant "${party.id}" has no document key`);
    }
    const id = randomUUID();
    const blobName = `${sender.id}/${folder}/${name}/${id}`;
    const blob = container.getBlockBlobClient(blobName);
    const upload = new BlockUpload(blob, { blockSize: this.options.blockSize, concurrency: this.options.concurrency });
    const contentKey = randomBytes(32);
    try {
      const sealed = await sealContent(request.content, upload, contentKey, maxBytes);
      const recipients = request.recipients.map(partyOf);
      const envelope: DocumentEnvelope = {
        kind: request.kind,
        hash: sealed.hash,
        size: sealed.size,
        contentType: request.contentType,
        sender: partyOf(sender),
        recipients,
        timestamp: Date.now(),
        signature: '0x',
        algorithms: currentAlgorithms(sealed.compression),
        iv: sealed.iv,
        tag: sealed.tag,
        keys: Object.fromEntries(
          parties.map((p) => [p.address.toLowerCase(), Buffer.from(sealTo(p.documentPublicKey as Hex, contentKey))]),
        ),
      };
      envelope.signature = await signDocument(await keys.account(sender.keyRef), chainId, statementOf(envelope));
      const etag = await upload.commit(toBlobMetadata(envelope));
      try {
        return await insertDocumentVersion(db, {
          id,
          owner: sender.id,
          folder,
          name,
          kind: request.kind,
          hash: sealed.hash,
          size: sealed.size,
          storedSize: sealed.storedSize,
          contentType: request.contentType,
          recipients: recipients.map((r) => r.id),
          blobName,
          // Hashed on the way in, at this very ETag.
          verifiedEtag: etag,
          signedAt: new Date(envelope.timestamp),
        });
      } catch (error) {
        // Unindexed, the blob would be unreachable: take it back.
        await blob.deleteIfExists().catch(() => {});
        throw error;
      }
    } finally {
      contentKey.fill(0);
    }
  }

  async row(id: string): Promise<DocumentRow> {
    const row = await getDocument(this.options.db, id);
    if (!row) throw new CodedError(Errors.document_not_found, { id });
    return row;
  }

  /**
   * Opens a document for a reader (its sender or a recipient): metadata and signature are checked
   * first; the content hash is recomputed in a full pass unless the blob still has the ETag at which
   * it was last recomputed. The plaintext is then streamed, checked again as it goes.
   */
  async open(row: DocumentRow, reader: Participant): Promise<OpenedDocument> {
    if (row.deletedAt)
      throw new CodedError(Errors.document_deleted, { reason: `document ${row.id} was deleted by ${row.deletedBy ?? 'its owner'}` });
    const { etag, envelope } = await this.readEnvelope(row);
    const mismatch = indexMismatch(row, envelope);
    if (mismatch) throw mismatch;
    await this.checkSignature(row, envelope);
    const contentKey = await this.contentKeyFor(envelope, reader);
    let hashCheck: OpenedDocument['hashCheck'] = 'unchanged';
    if (row.verifiedEtag !== etag) {
      await this.drain(row, envelope, contentKey, etag);
      await setVerifiedEtag(this.options.db, row.id, etag);
      hashCheck = 'recomputed';
    }
    const content = await this.plaintext(row, envelope, contentKey, etag);
    return { row, envelope, content, hashCheck };
  }

  /** Recomputes everything a reader would rely on, and reports each layer (it throws only when storage fails). */
  async check(row: DocumentRow): Promise<DocumentCheck> {
    const result: DocumentCheck = {
      row,
      metadata: skipped('not checked'),
      signature: skipped('not checked: the metadata is not valid'),
      content: skipped('not checked: the metadata is not valid'),
      ok: false,
    };
    if (row.deletedAt) {
      result.metadata =
        result.signature =
        result.content =
          { ok: false, code: 'content_missing', message: `deleted by ${row.deletedBy ?? 'its owner'}` };
      return result;
    }
    let read: { etag: string; envelope: DocumentEnvelope };
    try {
      read = await this.readEnvelope(row);
    } catch (error) {
      if (isIntegrityFailure(error)) result.metadata = failed(error);
      else if (isCoded(error, Errors.document_content_missing))
        result.metadata = { ok: false, code: 'content_missing', message: error.message };
      else throw error;
      return result;
    }
    result.envelope = read.envelope;
    const mismatch = indexMismatch(row, read.envelope);
    result.metadata = mismatch ? failed(mismatch) : { ok: true };
    const { envelope, etag } = read;
    try {
      result.signature = { ok: true, signer: await this.checkSignature(row, envelope) };
    } catch (error) {
      if (!isIntegrityFailure(error)) throw error;
      result.signature = failed(error);
    }
    try {
      const contentKey = await this.anyContentKey(envelope);
      const recomputed = await this.drain(row, envelope, contentKey, etag);
      result.content = { ok: true, hash: recomputed.hash, size: recomputed.size };
    } catch (error) {
      const failure = asIntegrityFailure(error);
      if (!isIntegrityFailure(failure)) throw failure;
      result.content = failed(failure);
    }
    result.ok = result.metadata.ok && result.signature.ok && result.content.ok;
    if (result.ok) await setVerifiedEtag(this.options.db, row.id, etag);
    return result;
  }

  /** Takes back a version just stored (its upload turned out invalid): blob and index row both go. */
  async discard(row: DocumentRow): Promise<void> {
    await deleteDocumentRow(this.options.db, row.id);
    await this.remove(row);
  }

  /** Removes the version's content; its index row stays, marked deleted. */
  async remove(row: DocumentRow): Promise<void> {
    await this.options.container.getBlobClient(row.blobName).deleteIfExists();
  }

  private async readEnvelope(row: DocumentRow): Promise<{ etag: string; envelope: DocumentEnvelope }> {
    let properties;
    try {
      properties = await this.options.container.getBlobClient(row.blobName).getProperties();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404)
        throw new CodedError(Errors.document_content_missing, { reason: `the content of document ${row.id} is missing from blob storage` });
      throw error;
    }
    return { etag: properties.etag!, envelope: fromBlobMetadata(properties.metadata) };
  }

  /** The signer, when the signature is the named sender's over exactly these facts. */
  private async checkSignature(row: DocumentRow, envelope: DocumentEnvelope): Promise<Address> {
    const signer = await recoverDocumentSigner(this.options.chainId, statementOf(envelope), envelope.signature);
    if (!signer || signer.toLowerCase() !== envelope.sender.address) {
      throw integrityFailure(
        'signature_invalid',
        `the signature is not ${envelope.sender.id}'s over this document's hash, kind, recipients and time${signer ? ` (it recovers to ${signer})` : ''}`,
      );
    }
    // The signed address must still be the sender's participant record.
    const sender = await findParticipant(this.options.db, row.owner);
    if (!sender || sender.address.toLowerCase() !== signer.toLowerCase()) {
      throw integrityFailure(
        'signature_invalid',
        `the document is signed by ${signer}, which is not participant ${row.owner}'s ledger address`,
      );
    }
    return signer;
  }

  /** Unseals the content key with the reader's document key. */
  private async contentKeyFor(envelope: DocumentEnvelope, reader: Participant): Promise<Buffer> {
    const box = envelope.keys[reader.address.toLowerCase()];
    if (!box || !reader.documentKeyRef) throw integrityFailure('key_unwrap_failed', `the document holds no content key for ${reader.id}`);
    try {
      return Buffer.from(await this.options.keys.unseal(reader.documentKeyRef, box));
    } catch (error) {
      if (error instanceof SealedBoxError)
        throw integrityFailure('key_unwrap_failed', `${reader.id}'s content key does not open: ${error.message}`);
      throw error;
    }
  }

  /** For checks made on nobody's behalf: the content key of the first party whose box opens. */
  private async anyContentKey(envelope: DocumentEnvelope): Promise<Buffer> {
    let last: unknown;
    for (const party of [envelope.sender, ...envelope.recipients]) {
      const participant = await findParticipant(this.options.db, party.id);
      if (!participant || participant.address.toLowerCase() !== party.address) continue;
      try {
        return await this.contentKeyFor(envelope, participant);
      } catch (error) {
        last = error;
      }
    }
    throw isIntegrityFailure(last) ? last : integrityFailure('key_unwrap_failed', "no party's content key opens");
  }

  private async plaintext(row: DocumentRow, envelope: DocumentEnvelope, contentKey: Buffer, etag: string): Promise<Readable> {
    const response = await this.options.container
      .getBlobClient(row.blobName)
      .download(0, undefined, { conditions: { ifMatch: etag }, maxRetryRequests: 5 });
    const stages = openingStages({
      contentKey,
      iv: envelope.iv,
      tag: envelope.tag,
      compression: envelope.algorithms.compression,
      size: envelope.size,
      hash: envelope.hash,
    });
    // One failing stage destroys them all, and a reader that stops early releases the download.
    return streamPipeline([response.readableStreamBody as Readable, ...stages], () => {}) as unknown as Readable;
  }

  /** Opens the whole content and discards it: a full check of ciphertext, size and hash. */
  private async drain(
    row: DocumentRow,
    envelope: DocumentEnvelope,
    contentKey: Buffer,
    etag: string,
  ): Promise<{ hash: Hex; size: number }> {
    let size = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        callback();
      },
    });
    try {
      await pipeline(await this.plaintext(row, envelope, contentKey, etag), sink);
    } catch (error) {
      throw asIntegrityFailure(error);
    }
    return { hash: envelope.hash, size };
  }
}

/** The index must describe the blob it points at. */
function indexMismatch(row: DocumentRow, envelope: DocumentEnvelope): CodedError | undefined {
  if (
    envelope.hash === row.hash &&
    envelope.kind === row.kind &&
    envelope.sender.id === row.owner &&
    envelope.size === row.size &&
    envelope.contentType === row.contentType
  )
    return undefined;
  return integrityFailure(
    'index_mismatch',
    `the blob's envelope (hash ${envelope.hash}, kind ${envelope.kind}, sender ${envelope.sender.id}, ${envelope.size} bytes) is not the indexed document's (hash ${row.hash}, kind ${row.kind}, sender ${row.owner}, ${row.size} bytes)`,
  );
}

function failed(error: CodedError): CheckResult {
  return { ok: false, code: error.code as IntegrityCode, message: String(error.params.problem) };
}
