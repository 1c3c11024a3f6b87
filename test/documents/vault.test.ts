// The document vault on Azurite: what is stored is only ciphertext, readable by its parties alone,
// and every alteration of blob or metadata is caught with its own code.
import { createHash, createDecipheriv, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findParticipant } from '../../db/participants.js';
import type { Participant } from '../../db/participants.js';
import { fromBlobMetadata } from '../../domain/documents/metadata.js';
import type { DocumentVault } from '../../domain/documents/vault.js';
import { SealedBoxError } from '../../domain/participants/sealed-box.js';
import type { Core } from '../../app/wiring/core.js';
import { openTestCore } from '../support/env.js';

let core: Core;
let vault: DocumentVault;
let certifier: Participant;
let foundry: Participant;
let retailer: Participant;

const participant = async (id: string) => (await findParticipant(core.database.db, id))!;
const sha256 = (content: Buffer | string) => `0x${createHash('sha256').update(content).digest('hex')}`;
const chunks = (content: Buffer) => Readable.from([content.subarray(0, 1000), content.subarray(1000)]);

function store(content: Buffer, options: { folder?: string; name?: string; recipients?: Participant[] } = {}) {
  return vault.store({
    sender: certifier,
    folder: options.folder ?? 'certificates',
    name: options.name ?? `report-${randomBytes(4).toString('hex')}.txt`,
    kind: 'quality',
    contentType: 'text/plain',
    recipients: options.recipients ?? [foundry],
    content: chunks(content),
  });
}

/** Rewrites the blob's content and metadata as someone with write access to the storage account could. */
async function tamper(
  blobName: string,
  change: { content?: (bytes: Buffer) => Buffer; metadata?: (m: Record<string, string>) => Record<string, string> },
) {
  const blob = core.documents['options'].container.getBlockBlobClient(blobName);
  const properties = await blob.getProperties();
  const bytes = await blob.downloadToBuffer();
  const content = change.content ? change.content(bytes) : bytes;
  const metadata = change.metadata ? change.metadata(properties.metadata!) : properties.metadata!;
  await blob.upload(content, content.length, { metadata });
}

beforeAll(async () => {
  core = await openTestCore();
  vault = core.documents;
  [certifier, foundry, retailer] = await Promise.all([
    participant('tuv-assurance'),
    participant('acme-foundry'),
    participant('harbor-retail'),
  ]);
});
afterAll(() => core?.close());

describe('document vault', () => {
  const report = Buffer.from('Quality report for lot 42: all 1,000 units pass. '.repeat(200));

  it('round-trips a document for its recipient and its sender, with the SHA-256 of the plaintext as its hash', async () => {
    const row = await store(report);
    expect(row).toMatchObject({
      owner: 'tuv-assurance',
      folder: 'certificates',
      version: 1,
      kind: 'quality',
      hash: sha256(report),
      size: report.length,
      recipients: ['acme-foundry'],
    });
    // Compressed: this text shrinks a lot.
    expect(row.storedSize).toBeLessThan(report.length / 10);
    for (const reader of [foundry, certifier]) {
      const opened = await vault.open(row, reader);
      expect(await text(opened.content)).toBe(report.toString());
    }
  });

  it('gives the same content the same hash every time, and numbers versions of one path', async () => {
    const name = `same-${randomBytes(4).toString('hex')}.txt`;
    const first = await store(report, { name });
    const second = await store(report, { name });
    expect(second.hash).toBe(first.hash);
    expect([first.version, second.version]).toEqual([1, 2]);
    expect(second.id).not.toBe(first.id);
  });

  it('stores incompressible content uncompressed, and still round-trips it', async () => {
    const noise = randomBytes(300_000);
    const row = await store(noise);
    const opened = await vault.open(row, foundry);
    expect(opened.envelope.algorithms).toEqual({
      hash: 'sha-256',
      signature: 'eip712-secp256k1',
      compression: 'none',
      content: 'aes-256-gcm',
      keyWrap: 'ecies-secp256k1-hkdf-sha256-aes-256-gcm',
    });
    expect(Buffer.concat(await opened.content.toArray()).equals(noise)).toBe(true);
  });

  it('keeps only ciphertext: a participant who is not a recipient cannot open the raw blob', async () => {
    const secret = Buffer.from('confidential carbon footprint: 12.5 kg CO2e per unit');
    const row = await store(secret);
    const blob = core.documents['options'].container.getBlockBlobClient(row.blobName);
    const raw = await blob.downloadToBuffer();
    const envelope = fromBlobMetadata((await blob.getProperties()).metadata);
    // Neither the plaintext nor any part of it is stored.
    expect(raw.includes(secret.subarray(0, 16))).toBe(false);
    expect(raw.length).toBe(secret.length);
    // The boxes are for the sender and the recipient only; the retailer's key opens none of them.
    expect(Object.keys(envelope.keys).sort()).toEqual([certifier.address.toLowerCase(), foundry.address.toLowerCase()].sort());
    for (const box of Object.values(envelope.keys)) {
      await expect(core.keys.unseal(retailer.documentKeyRef!, box)).rejects.toBeInstanceOf(SealedBoxError);
    }
    // Guessing a key gets nowhere either: GCM refuses it.
    const guess = createDecipheriv('aes-256-gcm', randomBytes(32), envelope.iv).setAuthTag(envelope.tag);
    guess.update(raw);
    expect(() => guess.final()).toThrow(/unable to authenticate/);
    await expect(vault.open(row, retailer)).rejects.toMatchObject({ code: 'key_unwrap_failed' });
    // The recipient's key does open it.
    const box = envelope.keys[foundry.address.toLowerCase()]!;
    expect((await core.keys.unseal(foundry.documentKeyRef!, box)).length).toBe(32);
  });

  it('passes a full check of an unaltered document', async () => {
    const row = await store(report);
    const check = await vault.check(row);
    expect(check).toMatchObject({
      ok: true,
      metadata: { ok: true },
      signature: { ok: true, signer: certifier.address },
      content: { ok: true, hash: sha256(report), size: report.length },
    });
  });

  it.each([
    [
      'a flipped ciphertext byte',
      { content: (b: Buffer) => Buffer.concat([b.subarray(0, 10), Buffer.from([b[10]! ^ 1]), b.subarray(11)]) },
      { content: 'ciphertext_tampered' },
    ],
    ['a truncated ciphertext', { content: (b: Buffer) => b.subarray(0, b.length - 5) }, { content: 'ciphertext_tampered' }],
    [
      'an altered authentication tag',
      { metadata: (m: Record<string, string>) => ({ ...m, tw_tag: Buffer.alloc(16, 1).toString('base64') }) },
      { content: 'ciphertext_tampered' },
    ],
    [
      'another recipient named',
      {
        metadata: (m: Record<string, string>) => ({
          ...m,
          tw_recipients: JSON.stringify([{ id: 'harbor-retail', address: retailer.address.toLowerCase() }]),
        }),
      },
      { signature: 'signature_invalid' },
    ],
    [
      'another kind claimed',
      { metadata: (m: Record<string, string>) => ({ ...m, tw_kind: 'sustainability' }) },
      { metadata: 'index_mismatch', signature: 'signature_invalid' },
    ],
    [
      'an altered signing time',
      { metadata: (m: Record<string, string>) => ({ ...m, tw_timestamp: String(Number(m.tw_timestamp) + 1) }) },
      { signature: 'signature_invalid' },
    ],
    [
      'a wrapped key replaced',
      {
        metadata: (m: Record<string, string>) => ({
          ...m,
          tw_keys: JSON.stringify(
            Object.fromEntries(Object.keys(JSON.parse(m.tw_keys!)).map((a) => [a, randomBytes(129).toString('base64')])),
          ),
        }),
      },
      { content: 'key_unwrap_failed' },
    ],
    [
      'an unknown algorithm',
      { metadata: (m: Record<string, string>) => ({ ...m, tw_alg: m.tw_alg!.replace('aes-256-gcm', 'rot13') }) },
      { metadata: 'metadata_invalid' },
    ],
  ])('reports %s with its code', async (_what, change, codes) => {
    const row = await store(report);
    // A first read, so the vault knows the unaltered blob's ETag.
    await text((await vault.open(row, foundry)).content);
    await tamper(row.blobName, change);
    const check = await vault.check(row);
    expect(check.ok).toBe(false);
    for (const [layer, code] of Object.entries(codes))
      expect(check[layer as 'metadata' | 'signature' | 'content']).toMatchObject({ ok: false, code });
    // A reader is refused rather than handed altered content.
    await expect(vault.open(row, foundry).then((opened) => text(opened.content))).rejects.toMatchObject({ code: expect.any(String) });
  });

  it("reports a hash that is not the content's, even when the index agrees with the altered metadata", async () => {
    const row = await store(report);
    const other = sha256('something else');
    await tamper(row.blobName, { metadata: (m) => ({ ...m, tw_hash: other }) });
    const check = await vault.check({ ...row, hash: other });
    expect(check.signature).toMatchObject({ ok: false, code: 'signature_invalid' });
    expect(check.content).toMatchObject({ ok: false, code: 'hash_mismatch' });
  });
});
