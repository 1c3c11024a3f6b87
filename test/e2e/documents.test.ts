// The document vault over HTTP on the real stack (Azurite, anvil, Temporal): uploads sealed to their
// recipients, reads refused to everyone else, alterations caught with their codes, versions and
// deletion, certificates anchored by a certifier, and a part parked on `certify` that continues
// once a valid certificate is attached.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDocument } from '../../db/documents.js';
import type { Stack } from '../../app/wiring/stack.js';
import { apiClient } from '../support/api-client.js';
import type { ApiClient } from '../support/api-client.js';
import { startTestStack, uniqueId } from '../support/env.js';

let stack: Stack;
const admin = apiClient(() => stack.apiUrl);
const RUN = randomUUID().slice(0, 6);
const LIMIT = 1024 * 1024;
const keys: Record<string, string> = {};
let certifier: ApiClient;
let foundry: ApiClient;
let retailer: ApiClient;

const sha256 = (content: Buffer | string) => `0x${createHash('sha256').update(content).digest('hex')}`;

async function keyFor(participantId: string): Promise<string> {
  const { status, body } = await admin.call('POST', `/participants/${participantId}/api-keys`, { label: 'document tests' });
  expect(status).toBe(201);
  return body.apiKey.key;
}

/** Uploads `content` as the participant of `key` (raw body, fields in the query string). */
async function upload(key: string, content: Buffer | string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const query = new URLSearchParams({ folder: `certs-${RUN}`, kind: 'quality', ...fields });
  const response = await fetch(`${stack.apiUrl}/documents?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain', ...headers },
    body: content,
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function download(key: string, id: string) {
  const response = await fetch(`${stack.apiUrl}/documents/${id}`, { headers: { authorization: `Bearer ${key}` } });
  const bytes = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: response.headers, bytes, json: () => JSON.parse(bytes.toString()) };
}

/** Rewrites a stored blob's bytes, as someone with write access to the storage account could. */
async function tamperBlob(id: string) {
  const row = await getDocument(stack.core.database.db, id);
  const blob = stack.core.documents['options'].container.getBlockBlobClient(row!.blobName);
  const [properties, bytes] = await Promise.all([blob.getProperties(), blob.downloadToBuffer()]);
  bytes[5] = bytes[5]! ^ 0xff;
  await blob.upload(bytes, bytes.length, { metadata: properties.metadata });
}

beforeAll(async () => {
  stack = await startTestStack({ DOCUMENT_MAX_BYTES: String(LIMIT) });
  for (const id of ['tuv-assurance', 'acme-foundry', 'harbor-retail']) keys[id] = await keyFor(id);
  certifier = admin.as(keys['tuv-assurance']!);
  foundry = admin.as(keys['acme-foundry']!);
  retailer = admin.as(keys['harbor-retail']!);
});
afterAll(() => stack?.stop());

describe('document vault over HTTP', () => {
  const report = `Quality certificate ${RUN}: lot conforms to IEC 60749.\n`.repeat(50);

  it('stores a document sealed to its recipient, who reads it back verified; everyone else gets 403', async () => {
    const stored = await upload(keys['tuv-assurance']!, report, { name: 'lot-42.txt', recipients: 'acme-foundry' });
    expect(stored.status, JSON.stringify(stored.body)).toBe(201);
    expect(stored.body).toMatchObject({
      path: `/tuv-assurance/certs-${RUN}/lot-42.txt`,
      version: 1,
      kind: 'quality',
      hash: sha256(report),
      size: Buffer.byteLength(report),
      contentType: 'text/plain',
      recipients: ['acme-foundry'],
    });
    for (const reader of ['acme-foundry', 'tuv-assurance']) {
      const read = await download(keys[reader]!, stored.body.id);
      expect(read.status).toBe(200);
      expect(read.bytes.toString()).toBe(report);
      expect(
        Object.fromEntries([...read.headers].filter(([name]) => name.startsWith('tracewell-') || name === 'content-type')),
      ).toMatchObject({
        'content-type': 'text/plain',
        'tracewell-document-hash': sha256(report),
        'tracewell-signature-verified': 'true',
        'tracewell-hash-verified': 'true',
        'tracewell-signer': expect.stringMatching(/^tuv-assurance 0x[0-9a-f]{40}$/),
      });
    }
    const head = await fetch(`${stack.apiUrl}/documents/${stored.body.id}`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${keys['acme-foundry']}` },
    });
    expect([head.status, head.headers.get('content-length'), head.headers.get('tracewell-document-hash')]).toEqual([
      200,
      String(Buffer.byteLength(report)),
      sha256(report),
    ]);
    const refused = await download(keys['harbor-retail']!, stored.body.id);
    expect(refused.status).toBe(403);
    expect(refused.json().error.code).toBe('not_a_recipient');
    expect((await retailer.call('GET', `/documents/${stored.body.id}/metadata`)).status).toBe(403);
    expect((await retailer.call('GET', `/documents?folder=certs-${RUN}`)).body.documents).toEqual([]);
  });

  it('takes multipart uploads, numbers versions of a path, and lists them for their readers only', async () => {
    const name = `batch-${RUN}.csv`;
    for (const version of [1, 2]) {
      const form = new FormData();
      form.append('folder', `certs-${RUN}`);
      form.append('kind', 'carbon-footprint');
      form.append('recipients', 'acme-foundry');
      form.append('recipients', 'harbor-retail');
      form.append('file', new Blob([`unit,kg CO2e\nchip,${version}.5\n`], { type: 'text/csv' }), name);
      const response = await fetch(`${stack.apiUrl}/documents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys['tuv-assurance']}` },
        body: form,
      });
      const body = (await response.json()) as any;
      expect(response.status, JSON.stringify(body)).toBe(201);
      expect(body).toMatchObject({
        name,
        version,
        kind: 'carbon-footprint',
        contentType: 'text/csv',
        recipients: ['acme-foundry', 'harbor-retail'],
      });
    }
    // Fields after the file cannot be honoured: refused, and nothing is kept.
    const late = new FormData();
    late.append('folder', `certs-${RUN}`);
    late.append('kind', 'carbon-footprint');
    late.append('file', new Blob(['unit,kg CO2e\n']), 'late.csv');
    late.append('recipients', 'harbor-retail');
    const refused = await fetch(`${stack.apiUrl}/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys['tuv-assurance']}` },
      body: late,
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as any).error).toMatchObject({
      code: 'invalid_multipart',
      message: 'field "recipients" comes after the file; send the fields first',
    });
    expect((await certifier.call('GET', `/documents?folder=certs-${RUN}&name=late.csv`)).body.documents).toEqual([]);

    const listed = await retailer.call('GET', `/documents?folder=certs-${RUN}&name=${name}`);
    expect(listed.body.documents.map((d: any) => d.version)).toEqual([2, 1]);
    const versions = await foundry.call('GET', `/documents/${listed.body.documents[1].id}/versions`);
    expect(versions.body).toMatchObject({ path: `/tuv-assurance/certs-${RUN}/${name}`, versions: [{ version: 2 }, { version: 1 }] });
    expect((await download(keys['harbor-retail']!, listed.body.documents[0].id)).bytes.toString()).toBe('unit,kg CO2e\nchip,2.5\n');
  });

  it('gives the same content the same document hash', async () => {
    const first = await upload(keys['tuv-assurance']!, report, { name: 'copy-a.txt' });
    const second = await upload(keys['tuv-assurance']!, report, { name: 'copy-b.txt', recipients: 'harbor-retail' });
    expect(first.body.hash).toBe(second.body.hash);
    expect(first.body.hash).toBe(sha256(report));
  });

  it('refuses bad uploads with a clear 4xx', async () => {
    const missing = await upload(keys['tuv-assurance']!, 'x', { folder: '' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({
      code: 'invalid_request',
      details: expect.arrayContaining([expect.objectContaining({ field: 'folder' }), expect.objectContaining({ field: 'name' })]),
    });
    const unknown = await upload(keys['tuv-assurance']!, 'x', { name: 'x.txt', recipients: 'acme-foundry,nobody-here' });
    expect(unknown.status).toBe(422);
    expect(unknown.body.error).toMatchObject({ code: 'unknown_recipient', message: 'recipients: unknown participant "nobody-here"' });
    expect((await certifier.call('GET', '/documents/not-a-document')).status).toBe(404);
    expect((await certifier.call('GET', `/documents/${randomUUID()}`)).body.error.code).toBe('document_not_found');
  });

  it('answers 413 past the size limit, declared or streamed', async () => {
    const big = randomBytes(LIMIT + 1);
    const declared = await upload(keys['tuv-assurance']!, big, { name: 'big.bin' }, { 'content-type': 'application/octet-stream' });
    expect(declared.status).toBe(413);
    expect(declared.body.error).toMatchObject({ code: 'document_too_large', details: { limit: LIMIT } });
    // No length given: counted as it streams.
    const chunks = [big.subarray(0, LIMIT / 2), big.subarray(LIMIT / 2)];
    const streamed = await fetch(`${stack.apiUrl}/documents?folder=certs-${RUN}&name=big.bin&kind=quality`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys['tuv-assurance']}`, 'content-type': 'application/octet-stream' },
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next) controller.enqueue(next);
          else controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as any).error.code).toBe('document_too_large');
    // Nothing was stored.
    expect((await certifier.call('GET', `/documents?folder=certs-${RUN}&name=big.bin`)).body.documents).toEqual([]);
  });

  it('refuses to hand out an altered document, and verification names what was altered', async () => {
    const stored = await upload(keys['tuv-assurance']!, report, { name: 'tampered.txt', recipients: 'acme-foundry' });
    await tamperBlob(stored.body.id);
    const read = await download(keys['acme-foundry']!, stored.body.id);
    expect(read.status).toBe(409);
    expect(read.json().error.code).toBe('ciphertext_tampered');
    const verified = await retailer.call('GET', `/documents/${stored.body.id}/verify`);
    expect(verified.status).toBe(200);
    expect(verified.body).toMatchObject({
      valid: false,
      checks: {
        metadata: { ok: true },
        signature: { ok: true },
        content: { ok: false, code: 'ciphertext_tampered' },
        anchor: { ok: false, code: 'not_anchored' },
      },
    });
  });

  it('lets only the owner delete a version; readers then get 410', async () => {
    const stored = await upload(keys['tuv-assurance']!, report, { name: 'withdrawn.txt', recipients: 'acme-foundry' });
    const notOwner = await foundry.call('DELETE', `/documents/${stored.body.id}`);
    expect(notOwner.status).toBe(403);
    expect(notOwner.body.error.code).toBe('not_owner');
    expect((await certifier.call('DELETE', `/documents/${stored.body.id}`)).status).toBe(204);
    const gone = await download(keys['acme-foundry']!, stored.body.id);
    expect(gone.status).toBe(410);
    expect(gone.json().error.code).toBe('document_deleted');
    const versions = await certifier.call('GET', `/documents/${stored.body.id}/versions`);
    expect(versions.body.versions[0]).toMatchObject({ version: 1, deleted: { by: 'tuv-assurance' } });
  });
});

describe('certificates from the vault', () => {
  const lifecycle = `certified-${RUN}`;

  beforeAll(async () => {
    const published = await admin.call(
      'POST',
      '/lifecycles',
      `name: ${lifecycle}\nsteps:\n` +
        `  - { id: make, kind: mint, to: manufacturer, participant: acme-foundry }\n` +
        `  - { id: certify, kind: certify, requires: [quality] }\n` +
        `  - { id: ship, kind: transfer, to: distributor, participant: northwind-logistics }\n`,
      { contentType: 'application/yaml' },
    );
    expect(published.status, JSON.stringify(published.body)).toBe(201);
  });

  it('parks a part on `certify` until a valid certificate is attached, then continues on its own', async () => {
    const id = uniqueId('urn:test:doc');
    const file = id.replaceAll(':', '-');
    expect((await admin.call('POST', '/parts', { id, lifecycle })).status).toBe(201);
    const parked = await admin.untilPart(id, (p) => p.status === 'parked');
    expect(parked.steps.find((s: any) => s.id === 'certify')).toMatchObject({
      status: 'failed',
      error: { code: 'CertificationFailed', message: `part ${id} lacks valid certificates: quality: none attached` },
    });

    // A certificate of another kind does not do: the step retries and parks again.
    const wrongKind = await upload(keys['tuv-assurance']!, `Sustainability of ${id}`, {
      name: `${file}-sus.txt`,
      kind: 'sustainability',
      recipients: 'acme-foundry',
    });
    const attachedWrong = await certifier.call('POST', `/parts/${id}/certificates`, { document: wrongKind.body.id });
    expect(attachedWrong.status, JSON.stringify(attachedWrong.body)).toBe(200);
    expect(attachedWrong.body).toMatchObject({ resumed: 'certify', certificate: { certificate: 'sustainability' } });
    // The decision and the part's status change in one transaction: audited and parked means parked again.
    await admin.untilPart(id, (p) => p.status === 'parked' && p.operatorActions.length === 1);

    // Only an accepted certifier attaches, and only documents it signed.
    const own = await upload(keys['acme-foundry']!, `Self-declared quality of ${id}`, {
      name: `${file}-self.txt`,
      recipients: 'tuv-assurance',
    });
    expect((await foundry.call('POST', `/parts/${id}/certificates`, { document: own.body.id })).body.error.code).toBe('not_a_certifier');
    expect((await certifier.call('POST', `/parts/${id}/certificates`, { document: own.body.id })).body.error.code).toBe(
      'document_not_yours',
    );

    const quality = await upload(keys['tuv-assurance']!, `Quality of ${id}: pass`, {
      name: `${file}-quality.txt`,
      recipients: 'acme-foundry',
    });
    const attached = await certifier.call('POST', `/parts/${id}/certificates`, { document: quality.body.id, validFor: '30d' });
    expect(attached.status, JSON.stringify(attached.body)).toBe(200);
    expect(attached.body).toMatchObject({
      part: id,
      action: 'attach-certificate',
      txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      certificate: {
        certificate: 'quality',
        document: quality.body.id,
        documentHash: sha256(`Quality of ${id}: pass`),
        issuer: 'tuv-assurance',
        validUntil: expect.any(String),
      },
      resumed: 'certify',
    });
    const done = await admin.untilPart(id, (p) => p.status === 'completed');
    expect(done.variables.certify.certificates).toEqual([
      {
        kind: 'quality',
        documentHash: sha256(`Quality of ${id}: pass`),
        document: quality.body.id,
        issuer: 'tuv-assurance',
        validUntil: attached.body.certificate.validUntil,
      },
    ]);
    expect(done.owner.id).toBe('northwind-logistics');

    // The retry is audited under the certifier who attached the certificate.
    expect(done.operatorActions.map((a: any) => [a.actor, a.action, a.step])).toEqual([
      ['tuv-assurance', 'retry', 'certify'],
      ['tuv-assurance', 'retry', 'certify'],
    ]);
    expect(done.operatorActions[1].reason).toContain('certificate "quality"');

    // Anyone may verify the certificate: content, signature, and its anchor on this part.
    const verified = await retailer.call('GET', `/documents/${quality.body.id}/verify`);
    expect(verified.body).toMatchObject({
      valid: true,
      anchored: true,
      checks: {
        signature: { ok: true },
        content: { ok: true, hash: sha256(`Quality of ${id}: pass`) },
        anchor: { ok: true, anchors: [{ partId: id, kind: 'quality', issuer: 'tuv-assurance', expired: false, issuedBySigner: true }] },
      },
    });
    // The certificate speaks for this part only: it cannot certify another one.
    const other = uniqueId('urn:test:doc');
    expect((await admin.call('POST', '/parts', { id: other, lifecycle })).status).toBe(201);
    await admin.untilPart(other, (p) => p.status === 'parked');
    const replayed = await certifier.call('POST', `/parts/${other}/certificates`, { document: quality.body.id });
    expect(replayed.status).toBe(409);
    expect(replayed.body.error).toMatchObject({
      code: 'document_anchored_elsewhere',
      message: expect.stringContaining(`already certifies ${id}`),
    });

    // An anchored certificate is evidence: deleting it needs force.
    const deletion = await certifier.call('DELETE', `/documents/${quality.body.id}`);
    expect(deletion.status).toBe(409);
    expect(deletion.body.error).toMatchObject({ code: 'document_anchored', details: { parts: [id] } });
  });
});
