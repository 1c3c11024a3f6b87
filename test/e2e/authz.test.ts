// The authorization suite (issue 20): every API role against every operation of the live
// /openapi.json, and every participant against another's parts, documents and subscriptions, on one
// real stack. The operations' required roles are this file's own table, so a new operation fails
// here until someone decides who may call it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../app/wiring/stack.js';
import { apiClient, waitingFor } from '../support/api-client.js';
import type { ApiClient, ApiResponse } from '../support/api-client.js';
import { startTestStack, uniqueId } from '../support/env.js';

let stack: Stack;
const admin = apiClient(() => stack.apiUrl);

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

/** Who may call an operation: anyone (no key), any participant, one API role, or the participant named in the path (or an admin). */
type Needs = 'public' | 'participant' | 'admin' | 'operator' | 'process-engineer' | 'self-or-admin';

const NEEDS: Record<string, Needs> = {
  'GET /healthz': 'public',
  'GET /openapi.json': 'public',
  'GET /docs': 'public',
  'POST /lifecycles': 'process-engineer',
  'GET /lifecycles': 'participant',
  'GET /lifecycles/schema.json': 'participant',
  'GET /lifecycles/{name}': 'participant',
  'GET /lifecycles/{name}/{version}': 'participant',
  'POST /lifecycles/{name}/default': 'process-engineer',
  'PUT /lifecycles/{name}/{version}/deprecation': 'process-engineer',
  'DELETE /lifecycles/{name}/{version}/deprecation': 'process-engineer',
  'POST /parts': 'participant',
  'GET /parts/{id}': 'participant',
  'POST /parts/{id}/signals/{name}': 'participant',
  'POST /parts/{id}/updates/{name}': 'participant',
  'POST /parts/{id}/steps/{stepId}/retry': 'operator',
  'POST /parts/{id}/steps/{stepId}/skip': 'operator',
  'POST /parts/{id}/abort': 'operator',
  'POST /parts/{id}/reset': 'operator',
  'POST /parts/{id}/transfer': 'participant',
  'POST /parts/{id}/decommission': 'participant',
  'POST /parts/{id}/certificates': 'participant',
  'GET /parts/{id}/history': 'participant',
  'GET /parts/{id}/trace/backward': 'participant',
  'GET /parts/{id}/trace/forward': 'participant',
  'GET /participants': 'participant',
  'GET /participants/me': 'participant',
  'GET /participants/{id}': 'participant',
  'POST /participants': 'admin',
  'PATCH /participants/{id}': 'admin',
  'GET /participants/{id}/api-keys': 'self-or-admin',
  'POST /participants/{id}/api-keys': 'self-or-admin',
  'DELETE /participants/{id}/api-keys/{keyId}': 'self-or-admin',
  'POST /documents': 'participant',
  'GET /documents': 'participant',
  'GET /documents/{id}': 'participant',
  'HEAD /documents/{id}': 'participant',
  'GET /documents/{id}/metadata': 'participant',
  'GET /documents/{id}/versions': 'participant',
  'GET /documents/{id}/verify': 'participant',
  'DELETE /documents/{id}': 'participant',
  'GET /events': 'participant',
  'GET /events/stream': 'participant',
  'GET /events/ws': 'participant',
  'POST /events/subscriptions': 'participant',
  'GET /events/subscriptions': 'participant',
  'GET /events/subscriptions/{id}': 'participant',
  'DELETE /events/subscriptions/{id}': 'participant',
  'GET /events/subscriptions/{id}/deliveries': 'participant',
  'POST /events/subscriptions/{id}/redeliver': 'participant',
  'POST /contracts': 'admin',
  'GET /contracts': 'participant',
  'GET /contracts/{name}/openapi.json': 'participant',
  'POST /contracts/{name}/query/{method}': 'participant',
  'POST /contracts/{name}/invoke/{method}': 'participant',
  'GET /contracts/{name}/events': 'participant',
  'GET /ops/verify': 'operator',
  'GET /ops/listener': 'operator',
  'GET /ops/failures': 'operator',
  'POST /ops/failures/retry': 'operator',
  'GET /ops/transactions': 'operator',
  'POST /ops/transactions/{key}/resend': 'operator',
};

interface Operation {
  key: string;
  method: string;
  path: string;
  jsonBody: boolean;
}

/** The API roles tried against every operation; `none` is a participant holding only a supply-chain role. */
const ROLES = ['none', 'operator', 'process-engineer', 'admin'] as const;
type Role = (typeof ROLES)[number];

/** Whether `role` passes the operation's role check (the handler may still refuse for other reasons). */
function passes(needs: Needs, role: Role, self: boolean): boolean {
  if (needs === 'public' || needs === 'participant' || role === 'admin') return true;
  if (needs === 'self-or-admin') return self;
  return needs === role;
}

/** One request, read only as far as its status (an event stream never ends). */
async function status(operation: Operation, path: string, apiKey?: string): Promise<number> {
  const abort = new AbortController();
  const response = await fetch(`${stack.apiUrl}${path}`, {
    method: operation.method,
    headers: {
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      ...(operation.jsonBody ? { 'content-type': 'application/json' } : {}),
    },
    body: operation.jsonBody ? '{}' : undefined,
    signal: abort.signal,
  });
  abort.abort();
  return response.status;
}

/** The path with dummy values, or the caller's own id for a self-or-admin route. */
function concrete(path: string, id: string): string {
  return path.replaceAll(/\{(\w+)\}/g, (_, name: string) => (name === 'id' ? id : `no-such-${name.toLowerCase()}`));
}

describe('every API role against every operation', () => {
  it('answers 401 without a key, 403 exactly where the role is missing, and lets the rest through', async () => {
    const spec = (await admin.call('GET', '/openapi.json')).body;
    const operations: Operation[] = Object.entries(spec.paths as Record<string, Record<string, any>>).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch', 'head'].includes(method))
        .map(([method, op]) => ({
          key: `${method.toUpperCase()} ${path}`,
          method: method.toUpperCase(),
          path,
          jsonBody: op.requestBody?.content?.['application/json'] !== undefined,
        })),
    );
    // Every live operation has a decided rule, and every rule names a live operation.
    expect(operations.map((o) => o.key).filter((key) => NEEDS[key] === undefined)).toEqual([]);
    expect(Object.keys(NEEDS).filter((key) => !operations.some((o) => o.key === key))).toEqual([]);

    const callers = Object.fromEntries(
      await Promise.all(
        ROLES.map(async (role) => {
          const roles = role === 'none' ? ['retailer'] : [role];
          const created = await admin.newParticipant(roles, `authz-${role}`);
          const key = (await admin.call('POST', `/participants/${created.id}/api-keys`, { label: 'authz' })).body.apiKey.key as string;
          return [role, { id: created.id, key }];
        }),
      ),
    ) as Record<Role, { id: string; key: string }>;

    const wrong: string[] = [];
    let calls = 0;
    for (const operation of operations) {
      const needs = NEEDS[operation.key]!;
      const anonymous = await status(operation, concrete(operation.path, 'acme-foundry'));
      calls++;
      if ((anonymous === 401) !== (needs !== 'public')) wrong.push(`${operation.key} without a key: ${anonymous}`);
      for (const role of ROLES) {
        // A self-or-admin route is tried on another participant's id and on the caller's own.
        const targets = needs === 'self-or-admin' ? ['acme-foundry', callers[role].id] : ['acme-foundry'];
        for (const id of targets) {
          const got = await status(operation, concrete(operation.path, id), callers[role].key);
          calls++;
          const allowed = passes(needs, role, id === callers[role].id);
          if (got === 401 || (got === 403) === allowed) wrong.push(`${operation.key} as ${role} on ${id}: ${got} (allowed: ${allowed})`);
        }
      }
    }
    expect(wrong).toEqual([]);
    console.log(
      `authz matrix: ${ROLES.length + 1} callers (no key, ${ROLES.join(', ')}) x ${operations.length} operations = ${calls} requests`,
    );
  });
});

describe("every participant against another's resources", () => {
  const SEEDED = ['acme-foundry', 'sierra-mining', 'tuv-assurance', 'northwind-logistics', 'harbor-retail'];
  const as: Record<string, ApiClient> = {};
  let checks = 0;
  /** Expects the status and code; counted for the matrix line. */
  const refused = (response: ApiResponse, status: number, code: string, what: string) => {
    checks++;
    expect(response, what).toMatchObject({ status, body: { error: { code } } });
  };

  beforeAll(async () => {
    for (const id of SEEDED) {
      const key = (await admin.call('POST', `/participants/${id}/api-keys`, { label: 'authz' })).body.apiKey.key as string;
      as[id] = admin.as(key);
    }
    as['process-engineer'] = (await admin.newParticipant(['process-engineer'], 'authz-pe')).api;
    as.operator = (await admin.newParticipant(['operator'], 'authz-op')).api;
  });

  afterAll(() => {
    console.log(`authz matrix: ${Object.keys(as).length} participants x parts, documents and subscriptions = ${checks} checks`);
  });

  it("refuses another participant's event on a part (issue 20 case 9): 403, the part still waiting, no transfer", async () => {
    const part = uniqueId('urn:test:authz');
    expect((await admin.call('POST', '/parts', { id: part, lifecycle: 'part-basic', params: { batch: 'AZ-1' } })).status).toBe(201);
    await admin.untilPart(part, waitingFor('sold'));
    for (const [id, api] of Object.entries(as)) {
      if (id === 'acme-foundry' || id === 'operator') continue;
      for (const kind of ['updates', 'signals']) {
        const taken = await api.call('POST', `/parts/${part}/${kind}/sold`, { buyer: SEEDED.includes(id) ? id : 'harbor-retail' });
        refused(taken, 403, 'event_not_allowed', `${id} ${kind}`);
        expect(taken.body.error.message).toContain('only "acme-foundry" (the part\'s manufacturer) or an admin or operator');
      }
    }
    const still = await admin.untilPart(part, waitingFor('sold'));
    expect(still.owner.id).toBe('acme-foundry');
    expect(still.ownership).toHaveLength(1);
    const history = await stack.client.workflow.getHandle(part).fetchHistory();
    expect((history.events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes)).toEqual([]);

    // The part's manufacturer reports the sale; an operator may on any part.
    expect((await as['acme-foundry']!.call('POST', `/parts/${part}/updates/sold`, { buyer: 'northwind-logistics' })).status).toBe(200);
    expect((await admin.untilPart(part, (p) => p.status === 'completed')).owner.id).toBe('northwind-logistics');
    const other = uniqueId('urn:test:authz');
    await admin.call('POST', '/parts', { id: other, lifecycle: 'part-basic', params: { batch: 'AZ-2' } });
    await admin.untilPart(other, waitingFor('sold'));
    expect((await as.operator!.call('POST', `/parts/${other}/updates/sold`, { buyer: 'harbor-retail' })).status).toBe(200);
  });

  it("takes a chip's events only from its manufacturer and certifier (case 13)", async () => {
    const pallet = uniqueId('urn:test:authz-pallet');
    const chip = uniqueId('urn:test:authz-chip');
    expect((await admin.call('POST', '/parts', { id: pallet, lifecycle: 'pallet' })).status).toBe(201);
    await admin.untilPart(pallet, (p) => p.status === 'completed');
    expect((await admin.call('POST', '/parts', { id: chip, lifecycle: 'chip', params: { origin: 'Kalgoorlie', pallet } })).status).toBe(
      201,
    );
    await admin.untilPart(chip, waitingFor('manufactured'));
    for (const id of ['harbor-retail', 'tuv-assurance', 'sierra-mining', 'process-engineer'])
      refused(
        await as[id]!.call('POST', `/parts/${chip}/updates/manufactured`, { fab: 'fab-7', waferCount: 25 }),
        403,
        'event_not_allowed',
        id,
      );
    expect((await as['acme-foundry']!.call('POST', `/parts/${chip}/updates/manufactured`, { fab: 'fab-7', waferCount: 25 })).status).toBe(
      200,
    );
    await admin.untilPart(chip, waitingFor('quality-report'));
    // The holder is not the certifier: it may not report its own quality.
    for (const id of ['acme-foundry', 'harbor-retail'])
      refused(
        await as[id]!.call('POST', `/parts/${chip}/signals/quality-report`, { document: 'a'.repeat(64) }),
        403,
        'event_not_allowed',
        id,
      );
    expect((await admin.call('GET', `/parts/${chip}`)).body).toMatchObject({
      currentStep: 'quality-report',
      workflow: { state: 'awaiting' },
    });
  });

  it("refuses ledger actions on another's part: only the holder transfers or decommissions, only a certifier certifies", async () => {
    const part = uniqueId('urn:test:authz-ledger');
    await admin.call('POST', '/parts', { id: part, lifecycle: 'part-basic', params: { batch: 'AZ-3' } });
    await admin.untilPart(part, waitingFor('sold'));
    for (const id of ['harbor-retail', 'northwind-logistics', 'operator']) {
      refused(
        await as[id]!.call('POST', `/parts/${part}/transfer`, { to: id === 'operator' ? 'harbor-retail' : id }),
        403,
        'not_holder',
        id,
      );
      refused(await as[id]!.call('POST', `/parts/${part}/decommission`, {}), 403, 'not_holder', id);
    }
    // A retailer's own signed document does not make it a certifier.
    const own = await as['harbor-retail']!.call(
      'POST',
      `/documents?folder=authz&name=${part.replaceAll(':', '-')}.txt&kind=quality`,
      'pass',
      {
        contentType: 'text/plain',
      },
    );
    expect(own.status, JSON.stringify(own.body)).toBe(201);
    refused(
      await as['harbor-retail']!.call('POST', `/parts/${part}/certificates`, { document: own.body.id }),
      403,
      'not_a_certifier',
      'retailer',
    );
    expect((await admin.call('GET', `/parts/${part}`)).body.owner.id).toBe('acme-foundry');
    // The holder may.
    const moved = await as['acme-foundry']!.call('POST', `/parts/${part}/transfer`, { to: 'harbor-retail' });
    expect(moved, JSON.stringify(moved.body)).toMatchObject({ status: 200, body: { owner: 'harbor-retail' } });
  });

  it("refuses another's document: 403 to read unless a recipient, 403 to delete unless its sender", async () => {
    const upload = await as['acme-foundry']!.call(
      'POST',
      `/documents?folder=authz&name=${uniqueId('doc').replaceAll(':', '-')}.txt&kind=note&recipients=tuv-assurance`,
      'private',
      {
        contentType: 'text/plain',
      },
    );
    expect(upload.status, JSON.stringify(upload.body)).toBe(201);
    const doc = upload.body.id as string;
    for (const [id, api] of Object.entries(as)) {
      if (id === 'acme-foundry') continue;
      const reader = id === 'tuv-assurance';
      for (const path of [`/documents/${doc}`, `/documents/${doc}/metadata`, `/documents/${doc}/versions`]) {
        // The content itself is no JSON: its status is what counts here.
        const read = await api.call('GET', path).catch(() => ({ status: 200, body: 'content' }));
        if (reader) expect(read.status, `${id} ${path}`).toBe(200);
        else refused(read, 403, 'not_a_recipient', `${id} ${path}`);
      }
      refused(await api.call('DELETE', `/documents/${doc}`), 403, reader ? 'not_owner' : 'not_a_recipient', `${id} delete`);
      const listed = (await api.call('GET', '/documents')).body.documents.map((d: any) => d.id);
      expect(listed.includes(doc), `${id} lists it`).toBe(reader);
    }
    expect((await as['acme-foundry']!.call('GET', `/documents/${doc}/metadata`)).status).toBe(200);
  });

  it("hides another's subscription: 404 alike for a missing one, 403 to list everyone's unless admin", async () => {
    const created = await as['acme-foundry']!.call('POST', '/events/subscriptions', {
      name: uniqueId('authz').replaceAll(':', '-'),
      kind: 'websocket',
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const sub = created.body.id as string;
    for (const [id, api] of Object.entries(as)) {
      if (id === 'acme-foundry') continue;
      refused(await api.call('GET', `/events/subscriptions/${sub}`), 404, 'subscription_not_found', `${id} get`);
      refused(await api.call('GET', `/events/subscriptions/${sub}/deliveries`), 404, 'subscription_not_found', `${id} deliveries`);
      refused(await api.call('POST', `/events/subscriptions/${sub}/redeliver`, {}), 404, 'subscription_not_found', `${id} redeliver`);
      refused(await api.call('DELETE', `/events/subscriptions/${sub}`), 404, 'subscription_not_found', `${id} delete`);
      refused(await api.call('GET', '/events/subscriptions?all=true'), 403, 'forbidden', `${id} all`);
      expect((await api.call('GET', '/events/subscriptions')).body.subscriptions.map((s: any) => s.id)).not.toContain(sub);
    }
    expect((await as['acme-foundry']!.call('GET', `/events/subscriptions/${sub}`)).status).toBe(200);
    expect((await admin.call('GET', `/events/subscriptions/${sub}`)).status).toBe(200);
  });
});
