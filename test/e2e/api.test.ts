// End to end over HTTP against the real stack: Temporal dev server, anvil, Azurite, SQL, the worker
// and the Hono API, started the way `tracewell dev` starts them.
import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getAddress } from 'viem';
import { nameHash, tokenIdOf } from '../../domain/chain/part-registry.js';
import type { Stack } from '../../app/wiring/stack.js';
import { apiClient, waitingFor } from '../support/api-client.js';
import { documentedResponses } from '../support/openapi-responses.js';
import { participantAddress, startTestStack, TEST_ADMIN_API_KEY, uniqueId } from '../support/env.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

const { call: request, untilPart } = apiClient(() => stack.apiUrl);
const call = (method: string, path: string, body?: unknown, contentType?: string) => request(method, path, body, { contentType });

describe('HTTP API on the real stack', () => {
  it('reports healthy dependencies', async () => {
    const { status, body } = await call('GET', '/healthz');
    expect(status).toBe(200);
    expect(body.checks).toEqual({ database: { ok: true }, temporal: { ok: true }, chain: { ok: true } });
  });

  it('refuses a participant id that breaks the rule, saying the rule', async () => {
    const rule = 'expected 2 to 63 characters: lowercase letters, digits and hyphens, starting with a letter or digit';
    for (const id of ['y', 'Acme', '-acme', 'a'.repeat(64)])
      expect(await call('POST', '/participants', { id, name: 'Y', roles: [] }), id).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_request', message: `id: ${rule}`, details: [{ field: 'id', message: rule }] } },
      });
  });

  it('lists the participants with their ledger addresses', async () => {
    const { status, body } = await call('GET', '/participants');
    expect(status).toBe(200);
    const ids = body.participants.map((p: any) => p.id);
    expect(ids).toEqual(
      expect.arrayContaining(['acme-foundry', 'admin', 'harbor-retail', 'northwind-logistics', 'sierra-mining', 'tuv-assurance']),
    );
    const acme = body.participants.find((p: any) => p.id === 'acme-foundry');
    expect(acme.address).toBe(await participantAddress(stack.core, 'acme-foundry'));
    expect(acme.documentPublicKey).toMatch(/^0x04[0-9a-f]{128}$/);
  });
});

describe('lifecycle registry', () => {
  it('has the definitions of lifecycles/ published at start-up, and serves the JSON Schema', async () => {
    const { body } = await call('GET', '/lifecycles');
    expect(body.lifecycles.map((l: any) => l.name)).toEqual(expect.arrayContaining(['chip', 'pallet', 'part-basic']));
    expect(body.lifecycles.find((l: any) => l.name === 'chip')).toMatchObject({ version: 1, source: 'chip.yaml' });
    const schema = await call('GET', '/lifecycles/schema.json');
    expect(schema.body).toMatchObject({ title: 'Tracewell lifecycle definition', required: ['name', 'steps'] });
  });

  it('publishes immutable versions: identical content is no new version, a changed one is the next', async () => {
    const name = `line-${randomUUID().slice(0, 8)}`;
    const v1 = `name: ${name}\nsteps:\n  - { id: mint, kind: mint, to: manufacturer }\n`;
    const first = await call('POST', '/lifecycles', v1, 'application/yaml');
    expect(first).toMatchObject({ status: 201, body: { name, version: 1, source: 'api', definition: { name, version: 1 } } });
    expect(await call('POST', '/lifecycles', v1, 'application/yaml')).toMatchObject({ status: 200, body: { version: 1 } });

    const v2 = {
      name,
      steps: [
        { id: 'mint', kind: 'mint', to: 'manufacturer' },
        { id: 'sell', kind: 'transfer', to: 'retailer' },
      ],
    };
    expect(await call('POST', '/lifecycles', v2)).toMatchObject({
      status: 201,
      body: { version: 2, compiled: { version: 2, steps: [{ id: 'mint' }, { id: 'sell' }] } },
    });
    expect(await call('POST', '/lifecycles', { ...v2, version: 1 })).toMatchObject({
      status: 409,
      body: { error: { code: 'version_exists' } },
    });
    expect(await call('POST', '/lifecycles', { ...v2, version: 5 })).toMatchObject({
      status: 409,
      body: { error: { code: 'version_gap', message: `${name}: the next version is 3, not 5` } },
    });

    expect(await call('GET', `/lifecycles/${name}`)).toMatchObject({
      status: 200,
      body: { name, latest: 2, versions: [{ version: 1 }, { version: 2 }] },
    });
    expect(await call('GET', `/lifecycles/${name}/1`)).toMatchObject({
      status: 200,
      body: { version: 1, definition: { steps: [{ id: 'mint' }] } },
    });
    expect(await call('GET', `/lifecycles/${name}/3`)).toMatchObject({
      status: 404,
      body: { error: { code: 'lifecycle_version_not_found' } },
    });
    expect(await call('GET', '/lifecycles/no-such-line')).toEqual({
      status: 404,
      body: { error: { code: 'lifecycle_not_found', message: 'no lifecycle named "no-such-line"; see GET /lifecycles' } },
    });
  });

  it('suggests the published name closest to a mistyped one', async () => {
    const mistyped = {
      status: 404,
      body: {
        error: { code: 'lifecycle_not_found', message: 'no lifecycle named "part-basc" (did you mean "part-basic"?); see GET /lifecycles' },
      },
    };
    expect(await call('GET', '/lifecycles/part-basc')).toEqual(mistyped);
    expect(await call('GET', '/lifecycles/part-basc/1')).toEqual(mistyped);
    expect(await call('POST', '/parts', { id: uniqueId(), lifecycle: 'part-basc' })).toEqual(mistyped);
    expect(await call('POST', '/parts', { id: uniqueId(), lifecycle: 'part-basc', version: 1 })).toEqual(mistyped);
  });

  it('rejects an invalid definition with 422 and the list of problems', async () => {
    const yaml = 'name: broken\nsteps:\n  - { id: mine, kind: mint, to: miner }\n  - { id: mine, kind: transfer, to: distributer }\n';
    const { status, body } = await call('POST', '/lifecycles', yaml, 'application/yaml');
    expect(status).toBe(422);
    expect(body.error.code).toBe('invalid_definition');
    expect(body.error.details.problems).toEqual([
      {
        path: 'steps[1].id',
        step: 'mine',
        line: 4,
        message: 'duplicate step id "mine" (first used by steps[0])',
        text: 'request body:4: steps[1].id [step "mine"]: duplicate step id "mine" (first used by steps[0])',
      },
      {
        path: 'steps[1].to',
        step: 'mine',
        line: 4,
        message:
          'unknown participant role "distributer" (did you mean "distributor"?); roles: miner, manufacturer, distributor, retailer, certifier',
        text: expect.stringContaining('request body:4: steps[1].to [step "mine"]: unknown participant role "distributer"'),
      },
    ]);
    expect(await call('GET', '/lifecycles/broken')).toMatchObject({ status: 404 });
  });
});

describe('parts on lifecycle versions', () => {
  it('pins each part to the version it started on', async () => {
    const name = `pinned-${randomUUID().slice(0, 8)}`;
    const steps = [
      { id: 'mint', kind: 'mint', to: 'manufacturer' },
      { id: 'go', kind: 'await', event: 'go' },
    ];
    await call('POST', '/lifecycles', { name, steps });
    const first = uniqueId();
    const roles = { manufacturer: 'acme-foundry' };
    expect(await call('POST', '/parts', { id: first, lifecycle: name, roles })).toMatchObject({
      status: 201,
      body: { lifecycle: { name, version: 1 } },
    });
    await untilPart(first, waitingFor('go'));

    expect(
      (await call('POST', '/lifecycles', { name, steps: [...steps, { id: 'note', kind: 'record', event: 'shipped' }] })).body.version,
    ).toBe(2);
    const second = uniqueId();
    expect(await call('POST', '/parts', { id: second, lifecycle: name, roles })).toMatchObject({
      status: 201,
      body: { lifecycle: { name, version: 2 } },
    });
    await untilPart(second, waitingFor('go'));

    for (const id of [first, second]) expect((await call('POST', `/parts/${id}/signals/go`, {})).status).toBe(202);
    const one = await untilPart(first, (p) => p.status === 'completed');
    const two = await untilPart(second, (p) => p.status === 'completed');
    expect(one.lifecycle).toEqual({ name, version: 1 });
    expect(one.steps.map((s: any) => s.id)).toEqual(['mint', 'go']);
    expect(two.lifecycle).toEqual({ name, version: 2 });
    expect(two.steps.map((s: any) => [s.id, s.status])).toEqual([
      ['mint', 'succeeded'],
      ['go', 'succeeded'],
      ['note', 'succeeded'],
    ]);

    // A part can also start on an older version explicitly.
    const third = uniqueId();
    expect(await call('POST', '/parts', { id: third, lifecycle: name, version: 1, roles })).toMatchObject({
      status: 201,
      body: { lifecycle: { version: 1 } },
    });
  });

  it('completes an await step by update, refusing a bad payload with 422 and leaving the part unchanged', async () => {
    const id = uniqueId('urn:epc:id:sgtin:0614141.107346');
    expect((await call('POST', '/parts', { id, lifecycle: 'part-basic', params: { batch: 'B-17' } })).status).toBe(201);
    const before = await untilPart(id, waitingFor('sold'));
    expect(before).toMatchObject({
      lifecycle: { name: 'part-basic', version: 1 },
      params: { batch: 'B-17' },
      owner: { id: 'acme-foundry' },
    });

    const bad = await call('POST', `/parts/${id}/updates/sold`, { buyer: 'Not An Id', price: 3 });
    expect(bad).toMatchObject({ status: 422, body: { error: { code: 'invalid_payload' } } });
    expect(bad.body.error.details).toEqual([
      { field: 'buyer', message: 'expected a participant id' },
      { field: 'price', message: 'not declared (declared: buyer)' },
    ]);
    const unchanged = (await call('GET', `/parts/${id}`)).body;
    expect(unchanged).toMatchObject({ currentStep: 'sold', status: 'active', workflow: { state: 'awaiting' } });
    expect(unchanged.steps.map((s: any) => s.status)).toEqual(['succeeded', 'running', 'pending']);

    const sold = await call('POST', `/parts/${id}/updates/sold`, { buyer: 'northwind-logistics' });
    expect(sold).toMatchObject({
      status: 200,
      body: { id, step: 'sold', event: 'sold', payload: { buyer: 'northwind-logistics' }, delivered: 'update' },
    });
    const done = await untilPart(id, (p) => p.status === 'completed' && p.workflow.status === 'COMPLETED');
    expect(done.owner.id).toBe('northwind-logistics');
    expect(done.ownership.map((o: any) => [o.from, o.to])).toEqual([
      [null, 'acme-foundry'],
      ['acme-foundry', 'northwind-logistics'],
    ]);
    expect(done.variables).toMatchObject({ params: { batch: 'B-17' }, sold: { buyer: 'northwind-logistics' } });
    expect(await stack.core.registry.ownerOf(tokenIdOf(id))).toBe(getAddress(done.owner.address));

    expect(await call('POST', `/parts/${id}/updates/sold`, { buyer: 'harbor-retail' })).toMatchObject({
      status: 409,
      body: { error: { code: 'part_not_active' } },
    });
  });

  it('completes an await step by signal, and answers 404/409/422 for events it cannot take', async () => {
    const id = uniqueId();
    await call('POST', '/parts', { id, lifecycle: 'part-basic' });
    expect(await call('POST', `/parts/${id}/signals/paid`, {})).toMatchObject({
      status: 404,
      body: { error: { code: 'unknown_event', message: expect.stringContaining('it awaits: sold') } },
    });
    expect(await call('POST', `/parts/${id}/signals/sold`, { buyer: 'ghost-co' })).toMatchObject({
      status: 422,
      body: { error: { code: 'invalid_payload' } },
    });
    expect(await call('POST', `/parts/${id}/signals/sold`, '{"buyer":')).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_json' } },
    });
    expect(await call('POST', `/parts/${uniqueId()}/signals/sold`, {})).toMatchObject({
      status: 404,
      body: { error: { code: 'part_not_found' } },
    });

    // A signal may arrive before the step waits for it: the part keeps it.
    expect(await call('POST', `/parts/${id}/signals/sold`, { buyer: 'northwind-logistics' })).toMatchObject({
      status: 202,
      body: { delivered: 'signal' },
    });
    const done = await untilPart(id, (p) => p.status === 'completed');
    expect(done.owner.id).toBe('northwind-logistics');
  });

  it('answers 400, 404, 409 and 422 for parts it cannot start', async () => {
    expect(await call('POST', '/parts', '{"id": "x",')).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    const bad = await call('POST', '/parts', { id: 'has space', lifecycle: 7, colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: any) => d.field).sort()).toEqual(['(body)', 'id', 'lifecycle']);
    expect(await call('POST', '/parts', { id: uniqueId(), lifecycle: 'no-such' })).toMatchObject({
      status: 404,
      body: { error: { code: 'lifecycle_not_found' } },
    });
    expect(await call('POST', '/parts', { id: uniqueId(), lifecycle: 'chip', version: 99 })).toMatchObject({
      status: 404,
      body: { error: { code: 'lifecycle_version_not_found' } },
    });
    const params = await call('POST', '/parts', { id: uniqueId(), lifecycle: 'chip', params: { origin: 3 } });
    expect(params).toMatchObject({ status: 422, body: { error: { code: 'invalid_params' } } });
    expect(params.body.error.details).toEqual([
      { field: 'params.origin', message: 'expected a string' },
      { field: 'params.pallet', message: 'required' },
    ]);
    const id = uniqueId();
    expect((await call('POST', '/parts', { id, lifecycle: 'pallet' })).status).toBe(201);
    expect(await call('POST', '/parts', { id, lifecycle: 'pallet' })).toEqual({
      status: 409,
      body: { error: { code: 'part_exists', message: `part "${id}" already exists` } },
    });
    expect(await call('GET', `/parts/${uniqueId()}`)).toMatchObject({ status: 404, body: { error: { code: 'part_not_found' } } });
  });

  it('runs the sample chip lifecycle end to end: mine, manufacture, certify, bundle, ship, retail', async () => {
    const pallet = uniqueId('urn:test:pallet');
    const chip = uniqueId('urn:test:chip');
    expect((await call('POST', '/parts', { id: pallet, lifecycle: 'pallet' })).status).toBe(201);
    await untilPart(pallet, (p) => p.status === 'completed');
    expect((await call('POST', '/parts', { id: chip, lifecycle: 'chip', params: { origin: 'Kalgoorlie', pallet } })).status).toBe(201);

    const atFab = await untilPart(chip, waitingFor('manufactured'));
    expect(atFab.owner?.id, JSON.stringify(atFab)).toBe('acme-foundry');
    expect(atFab.ownership.map((o: any) => o.to)).toEqual(['sierra-mining', 'acme-foundry']);
    expect((await call('POST', `/parts/${chip}/updates/manufactured`, { fab: 'fab-7', waferCount: 25 })).status).toBe(200);

    await untilPart(chip, waitingFor('quality-report'));
    // The certifier signs its report into the vault, sealed to the fab; the part refers to it by id.
    const tuvKey = (await call('POST', '/participants/tuv-assurance/api-keys', { label: 'chip test' })).body.apiKey.key;
    const stored = await apiClient(() => stack.apiUrl, tuvKey).call(
      'POST',
      `/documents?folder=quality&name=${chip.replaceAll(':', '-')}.txt&kind=quality&recipients=acme-foundry`,
      `quality report for ${chip}: pass`,
      {
        contentType: 'text/plain',
      },
    );
    expect(stored.status, JSON.stringify(stored.body)).toBe(201);
    const report = stored.body.hash;
    expect((await call('POST', `/parts/${chip}/updates/quality-report`, { document: stored.body.id })).status).toBe(200);

    const done = await untilPart(chip, (p) => p.status === 'completed');
    expect(done.steps.map((s: any) => [s.id, s.status])).toEqual(
      [
        'mine',
        'to-fab',
        'manufactured',
        'record-manufacture',
        'quality-report',
        'attach-quality',
        'certify',
        'bundle',
        'ship',
        'unpack',
        'retail',
      ].map((id) => [id, 'succeeded']),
    );
    expect(done.owner.id).toBe('harbor-retail');
    expect(done.ownership.map((o: any) => o.to)).toEqual(['sierra-mining', 'acme-foundry', 'northwind-logistics', 'harbor-retail']);
    expect(done.variables.certify.certificates).toEqual([
      { kind: 'quality', documentHash: report, document: stored.body.id, issuer: 'tuv-assurance', validUntil: expect.any(String) },
    ]);
    expect(done.variables.unpack).toMatchObject({ bundle: pallet });

    const registry = stack.core.registry;
    const address = (id: string) => participantAddress(stack.core, id);
    expect(await registry.ownerOf(tokenIdOf(chip))).toBe(await address('harbor-retail'));
    expect(await registry.ownerOf(tokenIdOf(pallet))).toBe(await address('northwind-logistics'));
    expect(await registry.bundleOf(tokenIdOf(chip))).toBe(0n);
    expect((await registry.certificatesOf(tokenIdOf(chip))).map((c) => [c.kind, c.documentHash, c.issuer])).toEqual([
      [nameHash('quality'), report, await address('tuv-assurance')],
    ]);
    expect(await registry.isRecorded(tokenIdOf(chip), done.variables['record-manufacture'].hash)).toBe(true);
    expect((await call('GET', `/parts/${pallet}`)).body.owner.id).toBe('northwind-logistics');
  });
});

/** Sends bytes as they are (no client adds headers) and reads the whole answer. */
function rawRequest(request: string): Promise<string> {
  const { hostname, port } = new URL(stack.apiUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request)); // `connection: close`: the server ends it
    const chunks: Buffer[] = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', reject);
  });
}

describe('roles bound per part, in a network with two companies per role', () => {
  const publish = async (yaml: string) => {
    const published = await call('POST', '/lifecycles', yaml, 'application/yaml');
    expect(published.status, JSON.stringify(published.body)).toBe(201);
    return published.body.name as string;
  };

  it('binds a role from the request, the caller rule or the default, and each part mints to its own company', async () => {
    const named = uniqueId();
    const started = await call('POST', '/parts', { id: named, lifecycle: 'part-basic', roles: { manufacturer: 'delta-fab' } });
    expect(started).toMatchObject({ status: 201, body: { roles: { manufacturer: 'delta-fab' } } });

    const byDefault = uniqueId();
    expect(await call('POST', '/parts', { id: byDefault, lifecycle: 'part-basic' })).toMatchObject({
      status: 201,
      body: { roles: { manufacturer: 'acme-foundry' } },
    });

    // part-basic binds the manufacturer to the caller's own company when the caller is one.
    const deltaKey = (await call('POST', '/participants/delta-fab/api-keys', { label: 'roles test' })).body.apiKey.key;
    const byCaller = uniqueId();
    expect(await apiClient(() => stack.apiUrl, deltaKey).call('POST', '/parts', { id: byCaller, lifecycle: 'part-basic' })).toMatchObject({
      status: 201,
      body: { roles: { manufacturer: 'delta-fab' } },
    });

    for (const [id, fab] of [
      [named, 'delta-fab'],
      [byDefault, 'acme-foundry'],
      [byCaller, 'delta-fab'],
    ] as const) {
      const part = await untilPart(id, waitingFor('sold'));
      expect(part).toMatchObject({ roles: { manufacturer: fab }, owner: { id: fab } });
      expect(await stack.core.registry.ownerOf(tokenIdOf(id))).toBe(await participantAddress(stack.core, fab));
    }
  });

  it('refuses at start, with 422 and the candidates, a role nothing binds, and names that do not fit', async () => {
    const name = await publish(`
name: shelf-${randomUUID().slice(0, 8)}
steps:
  - { id: make, kind: mint, to: manufacturer }
  - { id: stock, kind: transfer, to: retailer }
roles:
  manufacturer: { default: acme-foundry }
`);
    const unbound = await call('POST', '/parts', { id: uniqueId(), lifecycle: name });
    expect(unbound).toMatchObject({ status: 422, body: { error: { code: 'unresolved_roles' } } });
    // Other files may onboard more retailers into a shared database: the candidates are whoever holds the role.
    const retailers = (await call('GET', '/participants')).body.participants
      .filter((p: any) => p.roles.includes('retailer'))
      .map((p: any) => p.id)
      .sort();
    expect(retailers).toEqual(expect.arrayContaining(['corner-market', 'harbor-retail']));
    expect(unbound.body.error.message).toBe(
      `roles for ${name} v1: roles.retailer: ${retailers.length} participants hold the role "retailer" (${retailers.slice(0, 10).join(', ')}${retailers.length > 10 ? ` and ${retailers.length - 10} more` : ''}); name one in roles.retailer`,
    );
    expect(unbound.body.error.details).toEqual([
      {
        field: 'roles.retailer',
        message: expect.stringContaining('participants hold the role "retailer"'),
        candidates: retailers.slice(0, 10),
      },
    ]);

    const wrong = await call('POST', '/parts', {
      id: uniqueId(),
      lifecycle: name,
      roles: { retailer: 'delta-fab', retailr: 'corner-market', manufacturer: 'nobody-here' },
    });
    expect(wrong).toMatchObject({ status: 422, body: { error: { code: 'unresolved_roles' } } });
    expect(wrong.body.error.details.map((d: any) => `${d.field}: ${d.message}`)).toEqual([
      `roles.retailr: ${name} v1 binds no role "retailr" (did you mean "retailer"?); it binds: manufacturer, retailer`,
      'roles.manufacturer: the request names "nobody-here" is no registered participant',
      'roles.retailer: the request names "delta-fab" does not hold the role "retailer" (it holds: manufacturer)',
    ]);

    const id = uniqueId();
    expect(await call('POST', '/parts', { id, lifecycle: name, roles: { retailer: 'corner-market' } })).toMatchObject({
      status: 201,
      body: { roles: { manufacturer: 'acme-foundry', retailer: 'corner-market' } },
    });
    expect((await untilPart(id, (p) => p.status === 'completed')).owner.id).toBe('corner-market');
  });

  it('a part made from another inherits its roles unless told otherwise', async () => {
    const suffix = randomUUID().slice(0, 8);
    const wafer = await publish(`
name: wafer-${suffix}
steps:
  - { id: make, kind: mint, to: manufacturer }
`);
    const chip = await publish(`
name: chip-${suffix}
params:
  wafer: { type: part, required: true }
steps:
  - { id: make, kind: mint, to: manufacturer, from: "\${params.wafer}" }
`);
    const waferId = uniqueId('urn:test:wafer');
    expect((await call('POST', '/parts', { id: waferId, lifecycle: wafer, roles: { manufacturer: 'delta-fab' } })).status).toBe(201);
    await untilPart(waferId, (p) => p.status === 'completed');

    const chipId = uniqueId('urn:test:chip');
    expect(await call('POST', '/parts', { id: chipId, lifecycle: chip, params: { wafer: waferId } })).toMatchObject({
      status: 201,
      body: { roles: { manufacturer: 'delta-fab' } },
    });
    expect((await untilPart(chipId, (p) => p.status === 'completed')).owner.id).toBe('delta-fab');
    const told = await call('POST', '/parts', {
      id: uniqueId('urn:test:chip'),
      lifecycle: chip,
      params: { wafer: waferId },
      roles: { manufacturer: 'acme-foundry' },
    });
    expect(told).toMatchObject({ status: 201, body: { roles: { manufacturer: 'acme-foundry' } } });
  });
});

describe('default and deprecated lifecycle versions', () => {
  it('lets a process engineer choose the default, deprecate a version, and never moves the default on re-publishing', async () => {
    const name = `versioned-${randomUUID().slice(0, 8)}`;
    const v1 = { name, roles: { manufacturer: { default: 'acme-foundry' } }, steps: [{ id: 'mint', kind: 'mint', to: 'manufacturer' }] };
    const v2 = { ...v1, steps: [...v1.steps, { id: 'note', kind: 'record', event: 'noted' }] };
    expect(await call('POST', '/lifecycles', v1)).toMatchObject({ status: 201, body: { version: 1, default: true } });
    expect(await call('POST', '/lifecycles', v2)).toMatchObject({ status: 201, body: { version: 2, default: true } });

    // Content equal to an older version is that version: nothing is published and the default stays.
    expect(await call('POST', '/lifecycles', v1)).toMatchObject({ status: 200, body: { version: 1, default: false } });
    expect((await call('GET', `/lifecycles/${name}`)).body).toMatchObject({ default: 2, latest: 2 });

    expect(await call('POST', `/lifecycles/${name}/default`, { version: 1 })).toMatchObject({
      status: 200,
      body: { name, version: 1, default: true, deprecatedAt: null },
    });
    expect(await call('POST', '/parts', { id: uniqueId(), lifecycle: name })).toMatchObject({ body: { lifecycle: { version: 1 } } });
    const listed = (await call('GET', '/lifecycles')).body.lifecycles.find((l: any) => l.name === name);
    expect(listed).toMatchObject({ version: 1, default: true, latest: 2 });

    // A new version published with ?default=false waits to be chosen.
    const v3 = { ...v2, description: 'third' };
    expect(await call('POST', `/lifecycles?default=false`, v3)).toMatchObject({ status: 201, body: { version: 3, default: false } });

    const deprecated = await call('PUT', `/lifecycles/${name}/2/deprecation`);
    expect(deprecated).toMatchObject({ status: 200, body: { version: 2, default: false, deprecatedAt: expect.any(String) } });
    expect(await call('POST', '/parts', { id: uniqueId(), lifecycle: name, version: 2 })).toEqual({
      status: 409,
      body: {
        error: {
          code: 'lifecycle_version_deprecated',
          message: `${name} v2 is deprecated: no new part starts on it; start on v1 (the default), or omit version`,
        },
      },
    });
    expect(await call('POST', `/lifecycles/${name}/default`, { version: 2 })).toMatchObject({
      status: 409,
      body: { error: { code: 'lifecycle_version_deprecated' } },
    });
    expect(await call('PUT', `/lifecycles/${name}/1/deprecation`)).toMatchObject({
      status: 409,
      body: { error: { code: 'default_version_deprecation' } },
    });
    expect(await call('PUT', `/lifecycles/${name}/9/deprecation`)).toMatchObject({
      status: 404,
      body: { error: { code: 'lifecycle_version_not_found' } },
    });

    expect(await call('DELETE', `/lifecycles/${name}/2/deprecation`)).toMatchObject({ status: 200, body: { deprecatedAt: null } });
    expect(await call('POST', '/parts', { id: uniqueId(), lifecycle: name, version: 2 })).toMatchObject({ status: 201 });
  });

  it('lets only a process engineer change versions', async () => {
    const { api } = await apiClient(() => stack.apiUrl).newParticipant(['retailer'], 'shop');
    expect(await api.call('POST', '/lifecycles/part-basic/default', { version: 1 })).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    expect(await api.call('PUT', '/lifecycles/part-basic/1/deprecation')).toMatchObject({ status: 403 });
  });
});

describe("the API's OpenAPI document", () => {
  const resolve = (document: any, schema: any): any =>
    schema?.$ref
      ? resolve(
          document,
          schema.$ref
            .split('/')
            .slice(1)
            .reduce((at: any, key: string) => at[key], document),
        )
      : schema;

  it('describes every route, needs no API key, and is accepted by an independent validator', async () => {
    const response = await fetch(`${stack.apiUrl}/openapi.json`);
    expect(response.status).toBe(200);
    const document: any = await response.json();
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document).toMatchObject({ openapi: '3.1.0', info: { title: 'Tracewell API' }, security: [{ bearer: [] }, { apiKey: [] }] });
    const operations = Object.entries(document.paths).flatMap(([path, item]: [string, any]) =>
      Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(operations).toEqual(
      expect.arrayContaining([
        'POST /parts',
        'GET /parts/{id}',
        'POST /parts/{id}/updates/{name}',
        'POST /parts/{id}/steps/{stepId}/retry',
        'GET /parts/{id}/trace/backward',
        'POST /lifecycles',
        'POST /documents',
        'GET /documents/{id}',
        'POST /participants',
        'GET /events',
        'GET /events/stream',
        'GET /events/ws',
        'POST /events/subscriptions',
        'GET /ops/failures',
        'POST /contracts',
        'POST /contracts/{name}/invoke/{method}',
        'GET /healthz',
      ]),
    );
    // Every operation says what it answers, and every refusal has the one error shape.
    for (const [path, item] of Object.entries(document.paths) as [string, any][]) {
      for (const [method, operation] of Object.entries(item) as [string, any][]) {
        expect(operation.summary, `${method} ${path}`).toBeTruthy();
        for (const [status, answer] of Object.entries(operation.responses) as [string, any][]) {
          // HEAD answers carry no body, and the health check's 503 is its report naming the failing
          // dependency; every other refusal is an Error.
          if (Number(status) >= 400 && method !== 'head' && !(path === '/healthz' && status === '503'))
            expect(answer.content?.['application/json']?.schema, `${method} ${path} ${status}`).toEqual({
              $ref: '#/components/schemas/Error',
            });
        }
      }
    }
    expect(document.paths['/healthz'].get.security).toEqual([]);
  });

  it('is what the server validates: {} to each JSON body with required fields answers 400 naming them', async () => {
    const document: any = await (await fetch(`${stack.apiUrl}/openapi.json`)).json();
    let checked = 0;
    for (const [path, item] of Object.entries(document.paths) as [string, any][]) {
      for (const [method, operation] of Object.entries(item) as [string, any][]) {
        // Bodies that also come in other media types (a lifecycle as YAML) are parsed by their handler.
        const media = Object.keys(operation.requestBody?.content ?? {});
        const schema = resolve(document, operation.requestBody?.content?.['application/json']?.schema);
        if (media.length !== 1 || !schema?.required?.length) continue;
        const url = path.replace(/\{[^}]+\}/g, 'no-such-thing');
        const { status, body } = await call(method.toUpperCase(), url, {});
        expect({ operation: `${method} ${path}`, status, code: body.error.code }).toEqual({
          operation: `${method} ${path}`,
          status: 400,
          code: 'invalid_request',
        });
        expect(body.error.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(schema.required));
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(8);
    // A value of the wrong type is named too, and a body of another media type is refused.
    expect(await call('POST', '/parts', { id: uniqueId('part'), lifecycle: 'part-basic', version: 'two' })).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', details: [{ field: 'version' }] } },
    });
    expect(await call('POST', '/parts', '{"id":"x","lifecycle":"part-basic"}', 'text/plain')).toMatchObject({
      status: 415,
      body: { error: { code: 'unsupported_media_type' } },
    });
    // `curl -X POST` with no data sends neither content-length nor transfer-encoding: no body, so `{}`.
    const raw = await rawRequest(
      `POST /participants/admin/api-keys HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${TEST_ADMIN_API_KEY}\r\nconnection: close\r\n\r\n`,
    );
    expect(raw.split('\r\n')[0]).toBe('HTTP/1.1 201 Created');
  });

  it('describes what the server answers: each body matches its documented response schema', async () => {
    const matches = await documentedResponses(stack.apiUrl);

    const id = uniqueId('urn:epc:id:sgtin:0614141.107346');
    const started = await call('POST', '/parts', { id, lifecycle: 'part-basic', params: { batch: 'B-9' } });
    const mismatches = matches('post', '/parts', 201, started.body);
    // Something in each list read below, so the item schemas are checked too (ops failures aside).
    const subscription = await call('POST', '/events/subscriptions', { name: 'docs-check', kind: 'websocket', filter: { parts: [id] } });
    const stored = await call(
      'POST',
      `/documents?folder=openapi-${randomUUID().slice(0, 8)}&name=note.txt&kind=note&recipients=acme-foundry`,
      'checked against the document',
      'text/plain',
    );
    expect([subscription.status, stored.status]).toEqual([201, 201]);
    mismatches.push(
      ...matches('post', '/events/subscriptions', 201, subscription.body),
      ...matches('post', '/documents', 201, stored.body),
    );
    mismatches.push(...matches('get', '/documents/{id}/metadata', 200, (await call('GET', `/documents/${stored.body.id}/metadata`)).body));
    await untilPart(id, waitingFor('sold'));
    const part = encodeURIComponent(id);
    const reads: Array<[string, string]> = [
      ['/participants', '/participants'],
      ['/participants/me', '/participants/me'],
      ['/lifecycles', '/lifecycles'],
      ['/lifecycles/part-basic', '/lifecycles/{name}'],
      ['/lifecycles/part-basic/1', '/lifecycles/{name}/{version}'],
      [`/parts/${part}`, '/parts/{id}'],
      [`/parts/${part}/history`, '/parts/{id}/history'],
      [`/parts/${part}/trace/backward`, '/parts/{id}/trace/backward'],
      [`/parts/${part}/trace/backward?shape=graph`, '/parts/{id}/trace/backward'],
      [`/parts/${part}/trace/forward`, '/parts/{id}/trace/forward'],
      ['/events?limit=20', '/events'],
      ['/events/subscriptions', '/events/subscriptions'],
      ['/documents', '/documents'],
      ['/contracts', '/contracts'],
      ['/ops/failures', '/ops/failures'],
      ['/ops/listener', '/ops/listener'],
      ['/healthz', '/healthz'],
    ];
    for (const [path, template] of reads) {
      const { status, body } = await call('GET', path);
      expect(status, path).toBe(200);
      for (const list of ['participants', 'lifecycles', 'events', 'subscriptions', 'documents', 'contracts'].filter((key) =>
        Array.isArray(body[key]),
      )) {
        expect(body[list].length, `${path} ${list}`).toBeGreaterThan(0);
      }
      mismatches.push(...matches('get', template, 200, body));
    }
    const sold = await call('POST', `/parts/${part}/updates/sold`, { buyer: 'northwind-logistics' });
    mismatches.push(...matches('post', '/parts/{id}/updates/{name}', 200, sold.body));
    const refused = await call('GET', '/parts/no-such-part');
    mismatches.push(...matches('get', '/parts/{id}', 404, refused.body));
    expect(mismatches).toEqual([]);
  });

  it('is browsable at /docs, served with its assets from this server', async () => {
    const page = await fetch(`${stack.apiUrl}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    const scripts = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts).toEqual(
      expect.arrayContaining(['docs/assets/swagger-ui-bundle.js', 'docs/assets/swagger-ui.css', 'docs/assets/docs.js']),
    );
    for (const asset of scripts) {
      const response = await fetch(new URL(asset, `${stack.apiUrl}/docs`));
      expect(response.status, asset).toBe(200);
      expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(100);
    }
    const initializer = await (await fetch(`${stack.apiUrl}/docs/assets/docs.js`)).text();
    expect(initializer).toContain("url: 'openapi.json'");
  });
});
