// The first hour of a new user, played on `tracewell dev` over a data directory: onboard a second
// manufacturer and retailer, run parts that name their companies and parts that rely on a rule or a
// default, publish a new lifecycle version, restart, and find everything where it was left.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api-client.js';
import type { ApiClient } from '../support/api-client.js';
import { interrupt, processesUsing, startDev } from '../support/dev-stack.js';
import type { DevRun } from '../support/dev-stack.js';
import { uniqueId } from '../support/env.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tracewell-first-hour-'));
let dev: DevRun;
let admin: ApiClient;

beforeAll(async () => {
  dev = await startDev(dataDir);
  admin = apiClient(() => dev.apiUrl, dev.apiKey);
}, 180_000);
afterAll(async () => {
  if (dev) await interrupt(dev);
  rmSync(dataDir, { recursive: true, force: true });
});

const sold = (part: any) => part.currentStep === 'sold' && part.workflow?.state === 'awaiting';

/** part-basic v2, as a process engineer would write it: an inspection recorded after the mint. */
const PART_BASIC_V2 = `
name: part-basic
description: Mint to the manufacturer, record its inspection, transfer on sale
params:
  batch: { type: string, description: production batch }
roles:
  manufacturer: { rule: caller, default: acme-foundry }
steps:
  - { id: mint, kind: mint, to: manufacturer }
  - { id: inspected, kind: record, event: inspected, data: { batch: "\${params.batch}" } }
  - id: sold
    kind: await
    event: sold
    payload:
      buyer: { type: participant, required: true }
  - { id: deliver, kind: transfer, to: distributor, participant: "\${sold.buyer}" }
`;

describe('the first hour on the dev stack', () => {
  /** Part id → the manufacturer it must be minted to and the version it must run. */
  const expected = new Map<string, { manufacturer: string; version: number }>();

  it('onboards a second manufacturer and retailer over the API; every part is minted to the company it names or its rule gives', async () => {
    for (const [id, role] of [
      ['kestrel-fab', 'manufacturer'],
      ['bayside-goods', 'retailer'],
    ]) {
      const created = await admin.call('POST', '/participants', { id, name: id, roles: [role] });
      expect(created.status, JSON.stringify(created.body)).toBeLessThan(300);
    }
    const kestrel = admin.as((await admin.call('POST', '/participants/kestrel-fab/api-keys', { label: 'erp' })).body.apiKey.key);

    const starts: [ApiClient, Record<string, unknown>, string][] = [
      [admin, { roles: { manufacturer: 'kestrel-fab' } }, 'kestrel-fab'], // named
      [admin, { roles: { manufacturer: 'delta-fab' } }, 'delta-fab'], // named
      [kestrel, {}, 'kestrel-fab'], // the caller rule
      [admin, {}, 'acme-foundry'], // the default
    ];
    for (const [client, extra, manufacturer] of starts) {
      const id = uniqueId('urn:first-hour:v1');
      const started = await client.call('POST', '/parts', { id, lifecycle: 'part-basic', params: { batch: 'B-1' }, ...extra });
      expect(started, JSON.stringify(started.body)).toMatchObject({
        status: 201,
        body: { roles: { manufacturer }, lifecycle: { version: 1 } },
      });
      expected.set(id, { manufacturer, version: 1 });
    }

    // A lifecycle of its own whose retailer is ambiguous is refused at start, naming the candidates.
    const shelf =
      'name: shelf\nroles: { manufacturer: { default: acme-foundry } }\nsteps:\n  - { id: make, kind: mint, to: manufacturer }\n  - { id: stock, kind: transfer, to: retailer }\n';
    expect((await admin.call('POST', '/lifecycles', shelf, { contentType: 'application/yaml' })).status).toBe(201);
    const refused = await admin.call('POST', '/parts', { id: uniqueId(), lifecycle: 'shelf' });
    expect(refused).toMatchObject({
      status: 422,
      body: {
        error: {
          code: 'unresolved_roles',
          details: [{ field: 'roles.retailer', candidates: ['bayside-goods', 'corner-market', 'harbor-retail'] }],
        },
      },
    });
    const stocked = uniqueId('urn:first-hour:shelf');
    expect(await admin.call('POST', '/parts', { id: stocked, lifecycle: 'shelf', roles: { retailer: 'bayside-goods' } })).toMatchObject({
      status: 201,
    });
    expect((await admin.untilPart(stocked, (p) => p.status === 'completed', 60_000)).owner.id).toBe('bayside-goods');

    for (const [id, { manufacturer }] of expected) {
      expect((await admin.untilPart(id, sold, 60_000)).owner.id).toBe(manufacturer);
    }
  }, 120_000);

  it('publishes part-basic v2 as the new default; new parts run it, older ones stay on v1', async () => {
    const published = await admin.call('POST', '/lifecycles', PART_BASIC_V2, { contentType: 'application/yaml' });
    expect(published).toMatchObject({ status: 201, body: { name: 'part-basic', version: 2, default: true } });
    const id = uniqueId('urn:first-hour:v2');
    const start = { id, lifecycle: 'part-basic', params: { batch: 'B-2' }, roles: { manufacturer: 'kestrel-fab' } };
    expect(await admin.call('POST', '/parts', start)).toMatchObject({
      status: 201,
      body: { lifecycle: { version: 2 } },
    });
    expected.set(id, { manufacturer: 'kestrel-fab', version: 2 });
    const waiting = await admin.untilPart(id, sold, 60_000);
    expect(waiting.steps.map((step: any) => step.id)).toEqual(['mint', 'inspected', 'sold', 'deliver']);
    expect(waiting.steps.slice(0, 2).map((step: any) => step.status)).toEqual(['succeeded', 'succeeded']);
  }, 90_000);

  it('after a restart on the data directory: v2 is still the default, each part on its own version, none parked', async () => {
    expect(await interrupt(dev)).toBe(0);
    expect(processesUsing(dataDir)).toEqual([]);
    dev = await startDev(dataDir);
    // The files in lifecycles/ are the versions already published: nothing new, and the deploy says so.
    expect(dev.output()).toMatch(/lifecycles: current \(.*part-basic v1 \(default: v2\)/);
    expect(dev.output()).not.toMatch(/lifecycle part-basic v\d+ published/);

    const versions = await admin.call('GET', '/lifecycles/part-basic');
    expect(versions.body).toMatchObject({ default: 2, latest: 2 });

    for (const [id, { manufacturer, version }] of expected) {
      expect(await admin.call('POST', `/parts/${id}/updates/sold`, { buyer: 'southgate-freight' })).toMatchObject({ status: 200 });
      const done = await admin.untilPart(id, (p) => p.status === 'completed', 60_000);
      expect(done).toMatchObject({
        lifecycle: { name: 'part-basic', version },
        roles: { manufacturer },
        owner: { id: 'southgate-freight' },
      });
      expect(done.ownership.map((o: any) => o.to)).toEqual([manufacturer, 'southgate-freight']);
    }
    const failures = await admin.call('GET', '/ops/failures');
    expect(failures).toMatchObject({ status: 200, body: { failures: [] } });
  }, 240_000);
});
