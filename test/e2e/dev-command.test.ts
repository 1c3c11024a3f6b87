// `tracewell dev` as a user runs it: every service starts, Ctrl-C leaves nothing running, and with a
// data directory the parts, the chain and the contract deployment survive a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { interrupt, processesUsing, startDev } from '../support/dev-stack.js';
import { uniqueId } from '../support/env.js';

const dataDir = mkdtempSync(join(tmpdir(), 'tracewell-dev-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('tracewell dev', () => {
  it('starts the stack, stops cleanly on Ctrl-C, and keeps state across a restart', async () => {
    const first = await startDev(dataDir);
    // Each service's start is shown; on a pipe as plain lines (no spinner frames), with its time.
    for (const ready of [
      /Temporal dev server ready at 127\.0\.0\.1:\d+, Web UI http:\/\/127\.0\.0\.1:\d+ \(\d/,
      /anvil ready at http:\/\/127\.0\.0\.1:\d+ \(\d/,
      /Azurite ready at http:\/\/127\.0\.0\.1:\d+ \(\d/,
      /database \(pglite\) and deployment ready \(\d/,
      /worker polling task queue \S+ \(\d/,
      /API listening on http:\/\/127\.0\.0\.1:\d+ \(\d/,
    ])
      expect(first.output()).toMatch(ready);
    expect(first.output()).not.toContain('\r');
    // The Temporal Web UI answers at the URL the banner prints, and reads this stack's server.
    const uiUrl = /Temporal UI\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(first.output())![1]!;
    const page = await fetch(uiUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const namespaces = await fetch(`${uiUrl}/api/v1/namespaces`);
    expect(namespaces.status).toBe(200);
    expect(JSON.stringify(await namespaces.json())).toContain('"default"');
    expect(first.output()).toMatch(/Chain RPC\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(first.output()).toContain('PartRegistry deployed at');
    const address = /PartRegistry deployed at (0x[0-9a-fA-F]{40})/.exec(first.output())![1];
    expect(processesUsing(dataDir).length).toBeGreaterThanOrEqual(3);

    const id = uniqueId();
    const auth = { authorization: `Bearer ${first.apiKey}` };
    expect((await fetch(`${first.apiUrl}/parts/${id}`)).status).toBe(401);
    const created = await fetch(`${first.apiUrl}/parts`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id, lifecycle: 'part-basic' }),
    });
    expect(created.status).toBe(201);
    for (let i = 0; i < 200; i++) {
      const sold = await fetch(`${first.apiUrl}/parts/${id}/updates/sold`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ buyer: 'northwind-logistics' }),
      });
      if (sold.status === 200) break;
      expect(sold.status).toBe(409); // not waiting for the sale yet: still minting
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    let part: any;
    for (let i = 0; i < 200 && part?.status !== 'completed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      part = await (await fetch(`${first.apiUrl}/parts/${id}`, { headers: auth })).json();
    }
    expect(part.owner.id).toBe('northwind-logistics');

    expect(await interrupt(first)).toBe(0);
    expect(processesUsing(dataDir)).toEqual([]);

    const second = await startDev(dataDir);
    try {
      expect(second.output()).toContain(`PartRegistry found at ${address}`);
      // The deploy inside `dev` found everything it set up on the first start.
      expect(second.output()).toContain('[tracewell] migrations: current');
      expect(second.output()).toContain('[tracewell] participants: current');
      expect(second.output()).toContain('[tracewell] deployment: current');
      // The admin key was kept in the data directory: the same key works after the restart.
      expect(second.apiKey).toBe(first.apiKey);
      const again: any = await (await fetch(`${second.apiUrl}/parts/${id}`, { headers: auth })).json();
      expect(again).toMatchObject({ status: 'completed', owner: { id: 'northwind-logistics' }, workflow: { status: 'COMPLETED' } });
      expect(again.ownership).toHaveLength(2);
      // The lifecycles/ files were published once: an unchanged file is no new version.
      const versions: any = await (await fetch(`${second.apiUrl}/lifecycles/part-basic`, { headers: auth })).json();
      expect(versions.latest).toBe(1);
    } finally {
      expect(await interrupt(second)).toBe(0);
    }
    expect(processesUsing(dataDir)).toEqual([]);
  }, 240_000);
});
