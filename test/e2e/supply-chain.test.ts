// The supply chain on the ledger, end to end over HTTP: participants with their own keys and API
// keys, holder-only transfers, accepted certifiers, bundles, derivation and assembly, and the
// provenance traces a retailer (backward) and a recall (forward) read from the SQL mirror.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keccak256, toHex } from 'viem';
import { tokenIdOf } from '../../domain/chain/part-registry.js';
import type { Stack } from '../../app/wiring/stack.js';
import { apiClient, waitingFor } from '../support/api-client.js';
import type { ApiClient } from '../support/api-client.js';
import { participantAddress, startTestStack, uniqueId } from '../support/env.js';
import { documentedResponses } from '../support/openapi-responses.js';
import type { ResponseCheck } from '../support/openapi-responses.js';

let stack: Stack;
const admin = apiClient(() => stack.apiUrl);
let documented: ResponseCheck | undefined;
/** The mismatches of an answer with the API document (fetched once). */
const undocumented = async (method: string, template: string, body: unknown) =>
  (documented ??= await documentedResponses(stack.apiUrl))(method, template, 200, body);
const RUN = randomUUID().slice(0, 6);
const lifecycle = (name: string) => `${name}-${RUN}`;
/** Certificate documents the certifiers stored in the vault, by text: their hashes go on the parts. */
const certificateHashes = new Map<string, string>();
const doc = (text: string) => certificateHashes.get(text) ?? `no document "${text}" stored`;

/** Stores a certificate document signed by the participant of `api`; answers its hash. */
async function storeCertificate(api: ApiClient, text: string, kind: string): Promise<string> {
  const name = text.replace(/[^A-Za-z0-9.-]/g, '-');
  const stored = await api.call(
    'POST',
    `/documents?folder=supply-chain-${RUN}&name=${name}.txt&kind=${kind}&recipients=acme-foundry`,
    `${text} ${RUN}`,
    { contentType: 'text/plain' },
  );
  expect(stored.status, JSON.stringify(stored.body)).toBe(201);
  certificateHashes.set(text, stored.body.hash);
  return stored.body.hash;
}

/** Publishes a lifecycle of this file's own (YAML). */
async function publish(yaml: string): Promise<void> {
  const published = await admin.call('POST', '/lifecycles', yaml, { contentType: 'application/yaml' });
  expect(published.status, JSON.stringify(published.body)).toBe(201);
}

/** A client acting as a seeded participant, with a new API key the admin issues for it. */
async function actingAs(participantId: string): Promise<ApiClient> {
  const { status, body } = await admin.call('POST', `/participants/${participantId}/api-keys`, { label: 'supply-chain tests' });
  expect(status).toBe(201);
  return admin.as(body.apiKey.key);
}

async function startPart(name: string, params: Record<string, unknown>, prefix = 'urn:test:sc'): Promise<string> {
  const id = uniqueId(prefix);
  const created = await admin.call('POST', '/parts', { id, lifecycle: lifecycle(name), params });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return id;
}

const completed = (part: any) => part.status === 'completed';

beforeAll(async () => {
  stack = await startTestStack();
  // Participants are named explicitly: roles shared with other test files stay unambiguous.
  const who = `  maker: { type: participant, required: true }\n  certifier: { type: participant, required: true }\n  document: { type: hash, required: true }\n`;
  const certify = (kind: string) =>
    `  - { id: ${kind}, kind: attach-certificate, certificate: ${kind}, document: "\${params.document}", issuer: certifier, participant: "\${params.certifier}" }\n`;
  await publish(
    `name: ${lifecycle('ore')}\nparams:\n  miner: { type: participant, required: true }\n${who}steps:\n` +
      `  - { id: mine, kind: mint, to: miner, participant: "\${params.miner}" }\n${certify('origin')}` +
      `  - { id: to-fab, kind: transfer, to: manufacturer, participant: "\${params.maker}" }\n`,
  );
  for (const name of ['wafer', 'chip']) {
    await publish(
      `name: ${lifecycle(name)}\nparams:\n  from: { type: part, required: true }\n${who}steps:\n` +
        `  - { id: make, kind: mint, to: manufacturer, participant: "\${params.maker}", from: "\${params.from}" }\n${certify('quality')}`,
    );
  }
  await publish(
    `name: ${lifecycle('product')}\nparams:\n  chips: { type: parts, required: true }\n${who}steps:\n` +
      `  - { id: make, kind: mint, to: manufacturer, participant: "\${params.maker}" }\n` +
      `  - { id: assemble, kind: assemble, components: "\${params.chips}" }\n${certify('quality')}` +
      `  - { id: certify, kind: certify, requires: [quality] }\n`,
  );
});
afterAll(() => stack?.stop());

describe('participants and API keys', () => {
  it('creates a participant with its own ledger account, document key and first API key; only an admin may', async () => {
    const id = `lab-${RUN}`;
    const created = await admin.call('POST', '/participants', { id, name: 'Test Lab', roles: [] });
    expect(created).toMatchObject({
      status: 201,
      body: {
        participant: { id, roles: [] },
        apiKey: { key: expect.stringMatching(/^tw_/) },
        ledger: { status: 'synced', registrar: true },
      },
    });
    const { participant, apiKey } = created.body;
    expect(participant.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(participant.documentPublicKey).toMatch(/^0x04[0-9a-f]{128}$/);
    expect(await stack.core.registry.hasRole(keccak256(toHex('REGISTRAR_ROLE')), participant.address)).toBe(true);

    const lab = admin.as(apiKey.key);
    expect(await lab.call('GET', '/participants/me')).toMatchObject({ status: 200, body: { id } });
    expect(await lab.call('POST', '/participants', { id: `x-${RUN}`, name: 'X', roles: [] })).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    expect(await admin.call('POST', '/participants', { id, name: 'Again', roles: [] })).toMatchObject({
      status: 409,
      body: { error: { code: 'participant_exists' } },
    });
    expect(await admin.call('POST', '/participants', { id: `y-${RUN}`, name: 'Y', roles: ['certifer'] })).toMatchObject({
      status: 422,
      body: { error: { code: 'invalid_roles', message: expect.stringContaining('did you mean "certifier"') } },
    });

    // Keys are stored hashed; a revoked or unknown key, or none, is 401.
    const keys = await lab.call('GET', `/participants/${id}/api-keys`);
    expect(keys.body.apiKeys).toEqual([expect.objectContaining({ prefix: apiKey.key.slice(0, 10), revokedAt: null })]);
    expect(JSON.stringify(keys.body)).not.toContain(apiKey.key);
    expect(await lab.call('DELETE', `/participants/${id}/api-keys/${apiKey.id}`)).toMatchObject({ status: 204 });
    expect(await lab.call('GET', '/participants/me')).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } } });
    expect(await admin.as('tw_not-a-key').call('GET', '/parts/x')).toMatchObject({ status: 401 });
    expect((await fetch(`${stack.apiUrl}/participants`)).status).toBe(401);
    expect((await fetch(`${stack.apiUrl}/healthz`)).status).toBe(200);
  });
});

describe('custody on chain', () => {
  it('lets only the holder move a part; a bundled part moves only with its bundle; unbundled it moves again; decommissioned never', async () => {
    await publish(
      `name: ${lifecycle('pallet')}\nparams:\n  maker: { type: participant, required: true }\nsteps:\n  - { id: make, kind: mint, to: manufacturer, participant: "\${params.maker}" }\n`,
    );
    await publish(
      `name: ${lifecycle('boxed')}\nparams:\n  maker: { type: participant, required: true }\n  pallet: { type: part, required: true }\nsteps:\n` +
        `  - { id: make, kind: mint, to: manufacturer, participant: "\${params.maker}" }\n` +
        `  - { id: load, kind: bundle, into: "\${params.pallet}" }\n` +
        `  - { id: arrived, kind: await, event: arrived }\n` +
        `  - { id: unload, kind: unbundle }\n`,
    );
    const [acme, northwind, harbor] = [
      await actingAs('acme-foundry'),
      await actingAs('northwind-logistics'),
      await actingAs('harbor-retail'),
    ];
    const pallet = await startPart('pallet', { maker: 'acme-foundry' });
    await admin.untilPart(pallet, completed);
    const box = await startPart('boxed', { maker: 'acme-foundry', pallet });
    await admin.untilPart(box, waitingFor('arrived'));

    // Not the holder: refused by the API, before anything is signed.
    expect(await northwind.call('POST', `/parts/${pallet}/transfer`, { to: 'northwind-logistics' })).toMatchObject({
      status: 403,
      body: { error: { code: 'not_holder' } },
    });
    // The holder, but the part is bundled: the contract refuses it.
    expect(await acme.call('POST', `/parts/${box}/transfer`, { to: 'northwind-logistics' })).toMatchObject({
      status: 409,
      body: { error: { code: 'part_is_bundled' } },
    });
    expect(await acme.call('POST', `/parts/${box}/transfer`, { to: 'nobody-at-all' })).toMatchObject({
      status: 422,
      body: { error: { code: 'unknown_participant' } },
    });

    // Moving the pallet moves the box with it.
    const shipped = await acme.call(
      'POST',
      `/parts/${pallet}/transfer`,
      { to: 'northwind-logistics' },
      { headers: { 'idempotency-key': `ship-${RUN}` } },
    );
    expect(shipped).toMatchObject({
      status: 200,
      body: { part: pallet, owner: 'northwind-logistics', txHash: expect.stringMatching(/^0x/) },
    });
    // The same request again (same Idempotency-Key) is the same action: same answer, nothing sent.
    expect(
      await acme.call(
        'POST',
        `/parts/${pallet}/transfer`,
        { to: 'northwind-logistics' },
        { headers: { 'idempotency-key': `ship-${RUN}` } },
      ),
    ).toEqual(shipped);
    const northwindAddress = await participantAddress(stack.core, 'northwind-logistics');
    expect(await stack.core.registry.ownerOf(tokenIdOf(box))).toBe(northwindAddress);
    expect((await admin.call('GET', `/parts/${box}`)).body.owner.id).toBe('northwind-logistics');

    // Unloaded (the pallet's holder signs the unbundle), the box moves on its own.
    expect((await admin.call('POST', `/parts/${box}/signals/arrived`, {})).status).toBe(202);
    await admin.untilPart(box, completed);
    expect(await northwind.call('POST', `/parts/${box}/transfer`, { to: 'harbor-retail' })).toMatchObject({
      status: 200,
      body: { owner: 'harbor-retail' },
    });
    expect(await harbor.call('POST', `/parts/${box}/decommission`)).toMatchObject({ status: 200, body: { action: 'decommission' } });
    expect(await harbor.call('POST', `/parts/${box}/transfer`, { to: 'northwind-logistics' })).toMatchObject({
      status: 409,
      body: { error: { code: 'part_decommissioned' } },
    });

    // The history: every chain event of the box, in order, each with its transaction.
    const { body } = await admin.call('GET', `/parts/${box}/history`);
    expect(body.events.map((e: any) => [e.event, e.to ?? e.bundle ?? e.by ?? null])).toEqual([
      ['Transfer', 'acme-foundry'],
      ['PartRegistered', null],
      ['Bundled', pallet],
      ['Transfer', 'northwind-logistics'],
      ['Unbundled', pallet],
      ['Transfer', 'harbor-retail'],
      ['Decommissioned', 'harbor-retail'],
    ]);
    for (const event of body.events) expect(event.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(body.events[3].txHash).toBe(shipped.body.txHash);
  });
});

describe('certifiers', () => {
  it('refuses a certificate from a participant the admin has not accepted, and stops counting one whose acceptance was revoked', async () => {
    await publish(
      `name: ${lifecycle('checked')}\nparams:\n  maker: { type: participant, required: true }\n  certifier: { type: participant, required: true }\n  document: { type: hash, required: true }\nsteps:\n` +
        `  - { id: make, kind: mint, to: manufacturer, participant: "\${params.maker}" }\n` +
        `  - { id: quality, kind: attach-certificate, certificate: quality, document: "\${params.document}", issuer: certifier, participant: "\${params.certifier}" }\n` +
        `  - { id: audit, kind: await, event: audit }\n` +
        `  - { id: certify, kind: certify, requires: [quality] }\n`,
    );
    const labId = `newlab-${RUN}`;
    const lab = await admin.call('POST', '/participants', { id: labId, name: 'New Lab', roles: [] });
    expect(lab.status).toBe(201);
    const report = await storeCertificate(admin.as(lab.body.apiKey.key), 'lab report', 'quality');
    const part = await startPart('checked', { maker: 'acme-foundry', certifier: labId, document: report });
    const parked = await admin.untilPart(part, (p) => p.status === 'parked');
    expect(parked.steps.find((s: any) => s.id === 'quality').error).toMatchObject({ code: 'AccessControlUnauthorizedAccount' });
    expect(await stack.core.registry.certificatesOf(tokenIdOf(part))).toEqual([]);

    // Accepted: the admin gives the lab the certifier role, the chain follows, and the retry lands.
    const accepted = await admin.call('PATCH', `/participants/${labId}`, { roles: ['certifier'] });
    expect(accepted).toMatchObject({ status: 200, body: { ledger: { status: 'synced', certifier: true } } });
    try {
      expect((await admin.call('POST', `/parts/${part}/steps/quality/retry`, { reason: 'lab accepted' })).status).toBe(200);
      await admin.untilPart(part, waitingFor('audit'));
    } finally {
      // Revoked again (also keeps the role `certifier` unambiguous for other test files).
      expect(await admin.call('PATCH', `/participants/${labId}`, { roles: [] })).toMatchObject({
        status: 200,
        body: { ledger: { certifier: false } },
      });
    }
    expect(await admin.call('POST', `/parts/${part}/signals/audit`, {})).toMatchObject({ status: 202 });
    const failed = await admin.untilPart(part, (p) => p.status === 'parked' && p.currentStep === 'certify');
    expect(failed.steps.find((s: any) => s.id === 'certify').error).toMatchObject({
      code: 'CertificationFailed',
      message: expect.stringContaining('not an accepted certifier'),
    });
  });
});

describe('provenance', () => {
  // ore lot → 2 wafers → 2 chips each → 2 products of 2 chips; each part certified.
  let ore: string;
  const wafers: string[] = [];
  const chips: string[] = [];
  const products: string[] = [];

  beforeAll(async () => {
    const base = { maker: 'acme-foundry', certifier: 'tuv-assurance' };
    const tuv = await actingAs('tuv-assurance');
    await storeCertificate(tuv, 'ore origin', 'origin');
    for (let w = 0; w < 2; w++) {
      await storeCertificate(tuv, `wafer ${w}`, 'quality');
      for (let c = 0; c < 2; c++) await storeCertificate(tuv, `chip ${w}.${c}`, 'quality');
    }
    for (let p = 0; p < 2; p++) await storeCertificate(tuv, `product ${p}`, 'quality');
    ore = await startPart('ore', { ...base, miner: 'sierra-mining', document: doc('ore origin') }, 'urn:test:ore');
    await admin.untilPart(ore, completed);
    for (let w = 0; w < 2; w++) {
      const wafer = await startPart('wafer', { ...base, from: ore, document: doc(`wafer ${w}`) }, 'urn:test:wafer');
      wafers.push(wafer);
      await admin.untilPart(wafer, completed);
      for (let c = 0; c < 2; c++)
        chips.push(await startPart('chip', { ...base, from: wafer, document: doc(`chip ${w}.${c}`) }, 'urn:test:chip'));
    }
    for (const chip of chips) await admin.untilPart(chip, completed);
    for (let p = 0; p < 2; p++) {
      products.push(
        await startPart('product', { ...base, chips: chips.slice(2 * p, 2 * p + 2), document: doc(`product ${p}`) }, 'urn:test:product'),
      );
    }
    for (const product of products) await admin.untilPart(product, completed);
  }, 120_000);

  it('traces a product back through chips and wafers to the ore lot, with certificates and custody at every level', async () => {
    const { status, body } = await admin.call('GET', `/parts/${products[0]}/trace/backward`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ parts: 5, depth: 3 });
    // Three levels deep, as the API document describes the recursive tree.
    expect(await undocumented('get', '/parts/{id}/trace/backward', body)).toEqual([]);
    const product = body.part;
    expect(product).toMatchObject({
      id: products[0],
      owner: 'acme-foundry',
      certificates: [{ kind: 'quality', documentHash: doc('product 0'), issuer: 'tuv-assurance', valid: true }],
    });
    expect(product.components.map((c: any) => [c.id, c.link])).toEqual(
      expect.arrayContaining([
        [chips[0], 'component'],
        [chips[1], 'component'],
      ]),
    );
    for (const chip of product.components) {
      expect(chip.certificates).toEqual([
        expect.objectContaining({ kind: 'quality', issuer: 'tuv-assurance', txHash: expect.stringMatching(/^0x/) }),
      ]);
      expect(chip.components).toEqual([
        expect.objectContaining({
          id: wafers[0],
          link: 'source',
          certificates: [expect.objectContaining({ documentHash: doc('wafer 0') })],
        }),
      ]);
      const lot = chip.components[0].components[0];
      expect(lot).toMatchObject({
        id: ore,
        link: 'source',
        certificates: [{ kind: 'origin', documentHash: doc('ore origin'), issuer: 'tuv-assurance' }],
      });
      expect(lot.custody.map((change: any) => [change.from, change.to])).toEqual([
        [null, 'sierra-mining'],
        ['sierra-mining', 'acme-foundry'],
      ]);
      expect(lot.components).toEqual([]);
    }
  });

  it('gives the same backward trace as a graph: each part once, with links to its inputs', async () => {
    const { status, body } = await admin.call('GET', `/parts/${products[0]}/trace/backward?shape=graph`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ shape: 'graph', root: products[0], parts: 5, depth: 3 });
    expect(await undocumented('get', '/parts/{id}/trace/backward', body)).toEqual([]);
    const byId = new Map(body.nodes.map((node: any) => [node.id, node]));
    expect([...byId.keys()].sort()).toEqual([products[0], chips[0], chips[1], wafers[0], ore].sort());
    expect((byId.get(products[0]) as any).components.map((c: any) => c.id).sort()).toEqual([chips[0], chips[1]].sort());
    expect((byId.get(wafers[0]) as any).components).toEqual([expect.objectContaining({ id: ore, link: 'source' })]);
    expect((byId.get(ore) as any).certificates).toEqual([expect.objectContaining({ kind: 'origin' })]);
    expect(await admin.call('GET', `/parts/${products[0]}/trace/backward?shape=flat`)).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_query' } },
    });
  });

  it('traces the ore lot forward to every wafer, chip and product containing it, and everyone who held them', async () => {
    const { status, body } = await admin.call('GET', `/parts/${ore}/trace/forward`);
    expect(status).toBe(200);
    expect(await undocumented('get', '/parts/{id}/trace/forward', body)).toEqual([]);
    expect(body.products.sort()).toEqual([...products].sort());
    expect(body.reached.map((part: any) => part.id).sort()).toEqual([...wafers, ...chips, ...products].sort());
    expect(body.reached.find((part: any) => part.id === products[1])).toMatchObject({
      depth: 3,
      link: 'component',
      via: expect.stringMatching(/^urn:test:chip/),
    });
    expect(body.holders.map((holder: any) => holder.participant).sort()).toEqual(['acme-foundry', 'sierra-mining']);
    expect(body.part.certificates).toEqual([expect.objectContaining({ kind: 'origin' })]);
  });

  it('answers 404 for a part it does not know', async () => {
    expect(await admin.call('GET', '/parts/urn:test:none/trace/backward')).toMatchObject({
      status: 404,
      body: { error: { code: 'part_not_found' } },
    });
  });
});
