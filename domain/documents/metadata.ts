// The envelope of a stored document, kept as the blob's metadata next to its ciphertext: what the
// sender signed (hash, kind, sender, recipients, time), the signature, the algorithm ids, and the
// content key sealed to each party. The blob alone is the document: the SQL index only finds it.
import type { Address, Hex } from 'viem';
import { z } from 'zod';
import { SEALED_BOX_ALGORITHM } from '../participants/sealed-box.js';
import { CONTENT_ALGORITHM, HASH_ALGORITHM } from './envelope.js';
import type { Compression } from './envelope.js';
import { integrityFailure } from './document-errors.js';
import { SIGNATURE_ALGORITHM } from './signature.js';
import type { DocumentStatement } from './signature.js';

export const ENVELOPE_FORMAT = '1';

export interface Party {
  id: string;
  address: Address;
}

export interface DocumentEnvelope {
  kind: string;
  hash: Hex;
  size: number;
  contentType: string;
  sender: Party;
  recipients: Party[];
  /** When the sender signed, in milliseconds since the epoch. */
  timestamp: number;
  signature: Hex;
  algorithms: { hash: string; signature: string; compression: Compression; content: string; keyWrap: string };
  iv: Buffer;
  tag: Buffer;
  /** The content key sealed to each party's document key, by lowercase address (the sender's included). */
  keys: Record<string, Buffer>;
}

/** The signed facts of an envelope. */
export function statementOf(envelope: DocumentEnvelope): DocumentStatement {
  return {
    hash: envelope.hash,
    kind: envelope.kind,
    sender: envelope.sender.address,
    recipients: envelope.recipients.map((r) => r.address),
    timestamp: envelope.timestamp,
  };
}

export function currentAlgorithms(compression: Compression): DocumentEnvelope['algorithms'] {
  return { hash: HASH_ALGORITHM, signature: SIGNATURE_ALGORITHM, compression, content: CONTENT_ALGORITHM, keyWrap: SEALED_BOX_ALGORITHM };
}

// Blob metadata names must be C# identifiers and values ASCII header values: JSON for structures.
export function toBlobMetadata(envelope: DocumentEnvelope): Record<string, string> {
  return {
    tw_format: ENVELOPE_FORMAT,
    tw_kind: envelope.kind,
    tw_hash: envelope.hash,
    tw_size: String(envelope.size),
    tw_content_type: envelope.contentType,
    tw_sender: JSON.stringify(envelope.sender),
    tw_recipients: JSON.stringify(envelope.recipients),
    tw_timestamp: String(envelope.timestamp),
    tw_signature: envelope.signature,
    tw_alg: JSON.stringify(envelope.algorithms),
    tw_iv: envelope.iv.toString('base64'),
    tw_tag: envelope.tag.toString('base64'),
    tw_keys: JSON.stringify(Object.fromEntries(Object.entries(envelope.keys).map(([address, box]) => [address, box.toString('base64')]))),
  };
}

const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/)
  .transform((a) => a.toLowerCase() as Address);
const party = z.object({ id: z.string().min(1), address });
const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/)
  .transform((b) => Buffer.from(b, 'base64'));
const json = <S extends z.ZodTypeAny>(schema: S) =>
  z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'not JSON' });
        return z.NEVER;
      }
    })
    .pipe(schema);
const digits = z
  .string()
  .regex(/^\d{1,15}$/)
  .transform(Number);

const blobMetadata = z.object({
  tw_format: z.literal(ENVELOPE_FORMAT),
  tw_kind: z.string().min(1),
  tw_hash: z
    .string()
    .regex(/^0x[0-9a-f]{64}$/)
    .transform((h) => h as Hex),
  tw_size: digits,
  tw_content_type: z.string().min(1),
  tw_sender: json(party),
  tw_recipients: json(z.array(party)),
  tw_timestamp: digits,
  tw_signature: z
    .string()
    .regex(/^0x[0-9a-fA-F]+$/)
    .transform((s) => s as Hex),
  tw_alg: json(
    z.object({
      hash: z.literal(HASH_ALGORITHM),
      signature: z.literal(SIGNATURE_ALGORITHM),
      compression: z.enum(['gzip', 'none']),
      content: z.literal(CONTENT_ALGORITHM),
      keyWrap: z.literal(SEALED_BOX_ALGORITHM),
    }),
  ),
  tw_iv: base64.refine((b) => b.length === 12, '12 bytes'),
  tw_tag: base64.refine((b) => b.length === 16, '16 bytes'),
  tw_keys: json(z.record(z.string().regex(/^0x[0-9a-f]{40}$/), base64)),
});

/** Reads an envelope back; metadata that does not parse was altered (or is not Tracewell's). */
export function fromBlobMetadata(metadata: Record<string, string> | undefined): DocumentEnvelope {
  // Metadata names are case-insensitive in Azure; some servers hand them back in another case.
  const lower = Object.fromEntries(Object.entries(metadata ?? {}).map(([key, value]) => [key.toLowerCase(), value]));
  const parsed = blobMetadata.safeParse(lower);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(metadata)'}: ${issue.message}`).join('; ');
    throw integrityFailure('metadata_invalid', `the document's metadata is not a valid Tracewell envelope (${problems})`);
  }
  const m = parsed.data;
  return {
    kind: m.tw_kind,
    hash: m.tw_hash,
    size: m.tw_size,
    contentType: m.tw_content_type,
    sender: m.tw_sender,
    recipients: m.tw_recipients,
    timestamp: m.tw_timestamp,
    signature: m.tw_signature,
    algorithms: m.tw_alg,
    iv: m.tw_iv,
    tag: m.tw_tag,
    keys: m.tw_keys,
  };
}
