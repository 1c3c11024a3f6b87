// Pure parts of the document vault: the signed statement, the envelope's metadata form, and the
// `document` field type lifecycles use to refer to vault documents.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { documentHashOf } from '../../domain/documents/envelope.js';
import { currentAlgorithms, fromBlobMetadata, toBlobMetadata } from '../../domain/documents/metadata.js';
import type { DocumentEnvelope } from '../../domain/documents/metadata.js';
import { recoverDocumentSigner, signDocument } from '../../domain/documents/signature.js';
import { checkFields } from '../../workflows/definition.js';

const sender = privateKeyToAccount(generatePrivateKey());
const [a, b] = [privateKeyToAccount(generatePrivateKey()).address, privateKeyToAccount(generatePrivateKey()).address];
const statement = {
  hash: documentHashOf(Buffer.from('report')),
  kind: 'quality',
  sender: sender.address,
  recipients: [a, b],
  timestamp: 1_790_000_000_000,
};

describe('document signatures', () => {
  it('recover the sender over exactly the signed facts, whatever the order of recipients', async () => {
    const signature = await signDocument(sender, 31337, statement);
    expect(await recoverDocumentSigner(31337, { ...statement, recipients: [b, a] }, signature)).toBe(sender.address);
    for (const altered of [
      { kind: 'origin' },
      { recipients: [a] },
      { timestamp: statement.timestamp + 1 },
      { hash: documentHashOf(Buffer.from('other')) },
    ]) {
      expect(await recoverDocumentSigner(31337, { ...statement, ...altered }, signature)).not.toBe(sender.address);
    }
    // Another chain is another domain.
    expect(await recoverDocumentSigner(1, statement, signature)).not.toBe(sender.address);
    expect(await recoverDocumentSigner(31337, statement, '0x1234')).toBeUndefined();
  });

  it('hash content with SHA-256', () => {
    expect(documentHashOf(Buffer.from('abc'))).toBe('0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});

describe('document envelopes in blob metadata', () => {
  const envelope: DocumentEnvelope = {
    kind: 'quality',
    hash: statement.hash,
    size: 6,
    contentType: 'application/pdf',
    sender: { id: 'tuv-assurance', address: sender.address.toLowerCase() as `0x${string}` },
    recipients: [{ id: 'acme-foundry', address: a.toLowerCase() as `0x${string}` }],
    timestamp: statement.timestamp,
    signature: '0xabcd',
    algorithms: currentAlgorithms('gzip'),
    iv: Buffer.alloc(12, 1),
    tag: Buffer.alloc(16, 2),
    keys: { [a.toLowerCase()]: Buffer.alloc(129, 3) },
  };

  it('round-trip through ASCII metadata values, whatever case the server gives the names back in', () => {
    const metadata = toBlobMetadata(envelope);
    for (const value of Object.values(metadata)) expect(value).toMatch(/^[\x20-\x7e]*$/);
    expect(fromBlobMetadata(metadata)).toEqual(envelope);
    expect(fromBlobMetadata(Object.fromEntries(Object.entries(metadata).map(([k, v]) => [k.toUpperCase(), v])))).toEqual(envelope);
  });

  it('refuse metadata that is not a whole envelope, naming what is wrong', () => {
    const { tw_iv: _iv, ...missing } = toBlobMetadata(envelope);
    expect(() => fromBlobMetadata(missing)).toThrow(
      expect.objectContaining({ code: 'metadata_invalid', message: expect.stringContaining('tw_iv: Required') }),
    );
    expect(() => fromBlobMetadata({ ...toBlobMetadata(envelope), tw_recipients: '[{' })).toThrow(
      expect.objectContaining({ message: expect.stringContaining('tw_recipients: not JSON') }),
    );
  });
});

describe('the `document` field type', () => {
  it('takes a document id or a SHA-256 hash', () => {
    const specs = { report: { type: 'document' as const, required: true } };
    expect(checkFields(specs, { report: randomUUID() })).toEqual([]);
    expect(checkFields(specs, { report: statement.hash })).toEqual([]);
    expect(checkFields(specs, { report: 'report.pdf' })).toEqual([
      { field: 'report', message: 'expected a document id or its 0x-prefixed SHA-256 hash' },
    ]);
  });
});
