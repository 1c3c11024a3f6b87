// End to end over HTTP against the real stack: Temporal dev server, anvil, Azurite, SQL, the worker
// and the Hono API, started the way `tracewell dev` starts them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { getAddress } from 'viem';
import { tokenIdOf } from '../../ledger/part-registry.js';
import { startStack } from '../../runtime/stack.js';
import type { Stack } from '../../runtime/stack.js';
import { testAppConfig, testTemporalConfig, uniqueId } from '../support/env.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    config: testAppConfig(),
    temporal: testTemporalConfig(),
    startTemporal: false,
    workflowBundlePath: inject('workflowBundlePath'),
  });
});
afterAll(() => stack?.stop());

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function untilPart(id: string, done: (part: any) => boolean, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await call('GET', `/parts/${id}`);
    if (status === 200 && done(body)) return body;
    if (Date.now() > deadline) throw new Error(`part ${id} did not get there: ${JSON.stringify(body)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('HTTP API on the real stack', () => {
  it('reports healthy dependencies', async () => {
    const { status, body } = await call('GET', '/healthz');
    expect(status).toBe(200);
    expect(body.checks).toEqual({ database: { ok: true }, temporal: { ok: true }, chain: { ok: true } });
  });

  it('creates a part, transfers it, and the chain owner equals the SQL owner', async () => {
    const id = uniqueId('urn:epc:id:sgtin:0614141.107346');
    const created = await call('POST', '/parts', { id, owner: 'acme-foundry', metadata: { batch: 'B-17' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id, tokenId: tokenIdOf(id).toString(), workflow: { id } });

    const minted = await untilPart(id, (part) => part.workflow?.state === 'awaiting-transfer');
    expect(minted.owner.id).toBe('acme-foundry');
    expect(minted.steps.map((s: any) => s.status)).toEqual(['succeeded', 'succeeded', 'pending']);

    const transfer = await call('POST', `/parts/${id}/transfer`, { to: 'northwind-logistics' });
    expect(transfer.status).toBe(200);
    expect(transfer.body).toMatchObject({ id, owner: 'northwind-logistics', txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });

    const done = await untilPart(id, (part) => part.status === 'completed' && part.workflow.status === 'COMPLETED');
    expect(done.owner.id).toBe('northwind-logistics');
    expect(done.ownership.map((o: any) => [o.from, o.to])).toEqual([
      [null, 'acme-foundry'],
      ['acme-foundry', 'northwind-logistics'],
    ]);
    expect(done.ownership[1].txHash).toBe(transfer.body.txHash);

    const chainOwner = await stack.core.registry.ownerOf(tokenIdOf(id));
    expect(chainOwner).toBe(getAddress(done.owner.address));
    const receipt = await stack.core.chain.client.getTransactionReceipt({ hash: transfer.body.txHash });
    expect(receipt.status).toBe('success');
  });

  it('runs the transfer at once when transferTo is given at creation', async () => {
    const id = uniqueId();
    expect((await call('POST', '/parts', { id, owner: 'acme-foundry', transferTo: 'harbor-retail' })).status).toBe(201);
    const done = await untilPart(id, (part) => part.status === 'completed');
    expect(done.owner.id).toBe('harbor-retail');
    expect(await stack.core.registry.ownerOf(tokenIdOf(id))).toBe(getAddress(done.owner.address));
  });

  it('answers 409 part_exists for a duplicate part id, even after it completed', async () => {
    const id = uniqueId();
    expect((await call('POST', '/parts', { id, owner: 'acme-foundry', transferTo: 'harbor-retail' })).status).toBe(201);
    const again = await call('POST', '/parts', { id, owner: 'acme-foundry' });
    expect(again).toEqual({ status: 409, body: { error: { code: 'part_exists', message: `part "${id}" already exists` } } });
    await untilPart(id, (part) => part.status === 'completed');
    expect((await call('POST', '/parts', { id, owner: 'acme-foundry' })).status).toBe(409);
  });

  it('answers 400 on malformed input, naming the fields', async () => {
    expect(await call('POST', '/parts', '{"id": "x",')).toEqual({
      status: 400,
      body: { error: { code: 'invalid_json', message: 'the request body is not valid JSON' } },
    });
    const bad = await call('POST', '/parts', { id: 'has space', owner: 42, colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    expect(bad.body.error.details.map((d: any) => d.field).sort()).toEqual(['(body)', 'id', 'owner']);
    const missing = await call('POST', `/parts/${uniqueId()}/transfer`, {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([{ field: 'to', message: 'Required' }]);
  });

  it('answers 422 for unknown participants and 404 for unknown parts', async () => {
    const unknownOwner = await call('POST', '/parts', { id: uniqueId(), owner: 'ghost-co' });
    expect(unknownOwner).toMatchObject({ status: 422, body: { error: { code: 'unknown_participant', message: 'owner: unknown participant "ghost-co"' } } });
    const missing = uniqueId();
    expect(await call('GET', `/parts/${missing}`)).toMatchObject({ status: 404, body: { error: { code: 'part_not_found' } } });
    expect(await call('POST', `/parts/${missing}/transfer`, { to: 'harbor-retail' })).toMatchObject({ status: 404, body: { error: { code: 'part_not_found' } } });
    expect(await call('GET', '/nothing-here')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  });

  it('answers 409 for a transfer the part cannot take', async () => {
    const id = uniqueId();
    await call('POST', '/parts', { id, owner: 'acme-foundry' });
    await untilPart(id, (part) => part.workflow?.state === 'awaiting-transfer');
    expect(await call('POST', `/parts/${id}/transfer`, { to: 'acme-foundry' })).toMatchObject({ status: 409, body: { error: { code: 'already_owner' } } });
    expect((await call('POST', `/parts/${id}/transfer`, { to: 'harbor-retail' })).status).toBe(200);
    expect(await call('POST', `/parts/${id}/transfer`, { to: 'northwind-logistics' })).toMatchObject({ status: 409, body: { error: { code: 'part_not_active' } } });
  });

  it('lists the participants with their ledger addresses', async () => {
    const { status, body } = await call('GET', '/participants');
    expect(status).toBe(200);
    expect(body.participants.map((p: any) => p.id)).toEqual(['acme-foundry', 'harbor-retail', 'northwind-logistics']);
    expect(body.participants[0].address).toBe(stack.core.keys.account('hd:1').address);
  });
});
