// The first hour of a new user, played on `tracewell dev --data-dir` as a user runs it: every service
// starts with a ready line and the Temporal Web UI answers; a second manufacturer and retailer are
// onboarded; parts name their companies or rely on a rule or a default; a process engineer publishes
// v2; an operator runs the CLI from a second shell; Ctrl-C leaves nothing running; and a restart
// finds the parts, the chain, the deployment and the default version where they were.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api-client.js';
import type { ApiClient } from '../support/api-client.js';
import { interrupt, processesUsing, startDev, tracewellCli } from '../support/dev-stack.js';
import type { DevRun } from '../support/dev-stack.js';
import { uniqueId } from '../support/env.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tracewell-dev-'));
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

const atSold = (part: any) => part.currentStep === 'sold' && part.workflow?.state === 'awaiting';
const registryAddress = () => /PartRegistry deployed at (0x[0-9a-fA-F]{40})/.exec(dev.output())![1]!;

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

describe('the first hour on `tracewell dev --data-dir`', () => {
  /** Part id → the manufacturer it must be minted to and the version it must run. */
  const expected = new Map<string, { manufacturer: string; version: number }>();
  /** A part an operator must look at: sold to a retailer, it parks at `deliver` (RoleMismatch). */
  const misdelivered = uniqueId('urn:first-hour:misdelivered');

  it('shows each service starting, serves the Temporal Web UI at the URL it prints, and writes DIR/stack.json', async () => {
    // On a pipe, plain lines (no spinner frames), each with its time.
    for (const ready of [
      /Temporal dev server ready at 127\.0\.0\.1:\d+, Web UI http:\/\/127\.0\.0\.1:\d+ \(\d/,
      /anvil ready at http:\/\/127\.0\.0\.1:\d+ \(\d/,
      /Azurite ready at http:\/\/127\.0\.0\.1:\d+ \(\d/,
      /database \(pglite\) and deployment ready \(\d/,
      /worker polling task queue \S+ \(\d/,
      /API listening on http:\/\/127\.0\.0\.1:\d+ \(\d/,
    ])
      expect(dev.output()).toMatch(ready);
    expect(dev.output()).not.toContain('\r');
    expect(dev.output()).toContain('PartRegistry deployed at');
    expect(processesUsing(dataDir).length).toBeGreaterThanOrEqual(3);

    // The Temporal Web UI answers at the URL the banner prints, and reads this stack's server.
    const uiUrl = /Temporal UI\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(dev.output())![1]!;
    const page = await fetch(uiUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const namespaces = await fetch(`${uiUrl}/api/v1/namespaces`);
    expect(namespaces.status).toBe(200);
    expect(JSON.stringify(await namespaces.json())).toContain('"default"');

    expect(JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8'))).toMatchObject({
      format: 1,
      pid: dev.child.pid,
      apiUrl: dev.apiUrl,
      temporalAddress: /Temporal\s+(127\.0\.0\.1:\d+)/.exec(dev.output())![1],
      temporalUiUrl: uiUrl,
      chainRpcUrl: /Chain RPC\s+(http:\/\/\S+)/.exec(dev.output())![1],
      database: 'pglite',
      adminApiKeyFile: 'admin-api-key',
    });
    expect((await fetch(`${dev.apiUrl}/parts/${uniqueId()}`)).status).toBe(401);
  });

  it('onboards a second manufacturer and retailer over the API; each part is minted to the company it names or its rule gives', async () => {
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

    // A lifecycle whose retailer is ambiguous is refused at start, naming the candidates.
    const shelf = `name: shelf
roles: { manufacturer: { default: acme-foundry } }
steps:
  - { id: make, kind: mint, to: manufacturer }
  - { id: stock, kind: transfer, to: retailer }
`;
    expect((await admin.call('POST', '/lifecycles', shelf, { contentType: 'application/yaml' })).status).toBe(201);
    expect(await admin.call('POST', '/parts', { id: uniqueId(), lifecycle: 'shelf' })).toMatchObject({
      status: 422,
      body: {
        error: {
          code: 'unresolved_roles',
          details: [{ field: 'roles.retailer', candidates: ['bayside-goods', 'corner-market', 'harbor-retail'] }],
        },
      },
    });
    const stocked = uniqueId('urn:first-hour:shelf');
    const named = { id: stocked, lifecycle: 'shelf', roles: { retailer: 'bayside-goods' } };
    expect(await admin.call('POST', '/parts', named)).toMatchObject({ status: 201 });
    expect((await admin.untilPart(stocked, (p) => p.status === 'completed', 60_000)).owner.id).toBe('bayside-goods');

    for (const [id, { manufacturer }] of expected) expect((await admin.untilPart(id, atSold, 60_000)).owner.id).toBe(manufacturer);
  }, 120_000);

  it('publishes part-basic v2 as the new default; new parts run it, older ones stay on v1', async () => {
    const published = await admin.call('POST', '/lifecycles', PART_BASIC_V2, { contentType: 'application/yaml' });
    expect(published).toMatchObject({ status: 201, body: { name: 'part-basic', version: 2, default: true } });
    const id = uniqueId('urn:first-hour:v2');
    const start = { id, lifecycle: 'part-basic', params: { batch: 'B-2' }, roles: { manufacturer: 'kestrel-fab' } };
    expect(await admin.call('POST', '/parts', start)).toMatchObject({ status: 201, body: { lifecycle: { version: 2 } } });
    expected.set(id, { manufacturer: 'kestrel-fab', version: 2 });
    const waiting = await admin.untilPart(id, atSold, 60_000);
    expect(waiting.steps.map((step: any) => step.id)).toEqual(['mint', 'inspected', 'sold', 'deliver']);
    expect(waiting.steps.slice(0, 2).map((step: any) => step.status)).toEqual(['succeeded', 'succeeded']);

    // A sale to a retailer: part-basic delivers to a distributor, so the part parks for an operator.
    expect(await admin.call('POST', '/parts', { id: misdelivered, lifecycle: 'part-basic', params: { batch: 'B-3' } })).toMatchObject({
      status: 201,
    });
    await admin.untilPart(misdelivered, atSold, 60_000);
    expect(await admin.call('POST', `/parts/${misdelivered}/updates/sold`, { buyer: 'harbor-retail' })).toMatchObject({ status: 200 });
    await admin.untilPart(misdelivered, (p) => p.status === 'parked', 60_000);
  }, 120_000);

  describe('an operator in a second shell', () => {
    it('`tracewell verify --data-dir` checks the running stack and reports what GET /ops/verify does', async () => {
      const text = await tracewellCli(['verify', '--data-dir', dataDir]);
      expect(text.stderr).toBe('');
      expect(text.code).toBe(0);
      expect(text.stdout).toMatch(
        new RegExp(`^ok: [1-9]\\d* mirrored event\\(s\\) of ${registryAddress()} on chain 31337, [1-9]\\d* log\\(s\\) on chain`),
      );
      // TRACEWELL_DATA_DIR works as the flag does; the report is the API's.
      const json = await tracewellCli(['--json', 'verify'], { TRACEWELL_DATA_DIR: dataDir });
      expect(json.code).toBe(0);
      const report = JSON.parse(json.stdout);
      const api = (await admin.call('GET', '/ops/verify')).body;
      expect(report).toMatchObject({ ok: true, ledger: api.ledger, drift: [] });
      expect(report.rows).toBeGreaterThan(0);
      expect(report.rows).toBeLessThanOrEqual(api.rows);
    });

    it('`tracewell ops failures --data-dir` lists the parked part with the admin key from DIR', async () => {
      const result = await tracewellCli(['ops', 'failures', '--data-dir', dataDir]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const row = result.stdout.split('\n').find((line) => line.startsWith(misdelivered));
      expect(row).toMatch(/part-basic v2\s+deliver \(transfer\)\s+RoleMismatch\s+\d+\s+\S+\s+parked/);
      expect(result.stdout).toMatch(/1 of 1 shown/);
    });

    it('`tracewell listener status --data-dir` shows how far the mirror is', async () => {
      const result = await tracewellCli(['listener', 'status', '--data-dir', dataDir]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(
        /^0x[0-9a-fA-F]{40} on chain 31337: mirrored to block \d+ of chain head \d+ \(\d+ behind\), [1-9]\d* event\(s\)/,
      );
    });

    it('is refused a second `tracewell dev` on the same data directory', async () => {
      const second = await tracewellCli(['dev', '--data-dir', dataDir]);
      expect(second.code).toBe(2);
      expect(second.stderr).toContain(
        `--data-dir ${dataDir}: \`tracewell dev\` already runs there (pid ${dev.child.pid}, API ${dev.apiUrl})`,
      );
    });
  });

  it('Ctrl-C leaves nothing running and removes DIR/stack.json; the CLI then says to start the stack', async () => {
    expect(await interrupt(dev)).toBe(0);
    expect(processesUsing(dataDir)).toEqual([]);
    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);
    const verify = await tracewellCli(['verify', '--data-dir', dataDir]);
    expect(verify.code).toBe(2);
    expect(verify.stderr).toContain(`tracewell verify: no \`tracewell dev\` runs on ${dataDir}`);
    expect(verify.stderr).toContain(`start \`tracewell dev --data-dir ${dataDir}\` and run this again, or set CHAIN_RPC_URL`);
    const ops = await tracewellCli(['ops', 'failures', '--data-dir', dataDir]);
    expect(ops.code).toBe(2);
    expect(ops.stderr).toContain(`start \`tracewell dev --data-dir ${dataDir}\` and run this again, or pass --api URL`);
  }, 60_000);

  it('a restart finds the deployment, the admin key, v2 still the default, each part on its own version, and none parked on a role', async () => {
    const address = registryAddress();
    const firstKey = dev.apiKey;
    dev = await startDev(dataDir);
    expect(dev.output()).toContain(`PartRegistry found at ${address}`);
    for (const current of ['migrations', 'participants', 'deployment']) expect(dev.output()).toContain(`[tracewell] ${current}: current`);
    // The files in lifecycles/ are versions already published: nothing new, and the deploy says so.
    expect(dev.output()).toMatch(/lifecycles: current \(.*part-basic v1 \(default: v2\)/);
    expect(dev.output()).not.toMatch(/lifecycle part-basic v\d+ published/);
    expect(dev.apiKey).toBe(firstKey);
    expect((await admin.call('GET', '/lifecycles/part-basic')).body).toMatchObject({ default: 2, latest: 2 });

    for (const [id, { manufacturer, version }] of expected) {
      expect(await admin.call('POST', `/parts/${id}/updates/sold`, { buyer: 'southgate-freight' })).toMatchObject({ status: 200 });
      const done = await admin.untilPart(id, (p) => p.status === 'completed' && p.workflow?.status === 'COMPLETED', 60_000);
      expect(done).toMatchObject({
        lifecycle: { name: 'part-basic', version },
        roles: { manufacturer },
        owner: { id: 'southgate-freight' },
        workflow: { status: 'COMPLETED' },
      });
      expect(done.ownership.map((o: any) => o.to)).toEqual([manufacturer, 'southgate-freight']);
    }
    // The one parked part is the operator's misdelivery; no part waits on an ambiguous or missing role.
    const failures = (await admin.call('GET', '/ops/failures')).body.failures;
    expect(failures.map((f: any) => [f.partId, f.error.code])).toEqual([[misdelivered, 'RoleMismatch']]);
  }, 240_000);
});
