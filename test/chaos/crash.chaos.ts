// Crashes as they happen: `tracewell dev --data-dir` SIGKILLed with its whole process tree (the
// Node process, the Temporal server, anvil, Azurite) while parts are minting and transferring, then
// started again on the same directory. Every part must complete with its one token where its
// lifecycle put it, and the mirror must verify clean against the chain.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api-client.js';
import { interrupt, processesUsing, startDev, tracewellCli } from '../support/dev-stack.js';
import type { DevRun } from '../support/dev-stack.js';
import { uniqueId } from '../support/env.js';

const PARTS = 12;
const dataDir = mkdtempSync(join(tmpdir(), 'tracewell-crash-'));
let dev: DevRun | undefined;

afterAll(async () => {
  if (dev) await interrupt(dev);
  rmSync(dataDir, { recursive: true, force: true });
});

/** SIGKILL the dev process and every process it started (they name the data directory). */
function killTree(run: DevRun): number {
  const pids = [run.child.pid!, ...processesUsing(dataDir).map((line) => Number(line.split(' ')[0]))];
  const unique = [...new Set(pids)].filter((pid) => pid !== process.pid);
  for (const pid of unique) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  execFileSync('sleep', ['0.5']);
  return unique.length;
}

describe('a crash of the whole dev stack with parts in flight', () => {
  it('leaves every part completing with its one token, and the mirror verifying clean', async () => {
    dev = await startDev(dataDir);
    const admin = () => apiClient(() => dev!.apiUrl, dev!.apiKey);
    const ids = Array.from({ length: PARTS }, () => uniqueId('urn:crash:part'));
    for (const id of ids) {
      expect((await admin().call('POST', '/parts', { id, lifecycle: 'part-basic', params: { batch: 'crash' } })).status).toBe(201);
    }
    // Half of them get their sale as soon as they wait for it, so transfers are in flight too.
    const sold = new Set<string>();
    const deadline = Date.now() + 30_000;
    while (sold.size < PARTS / 2 && Date.now() < deadline) {
      for (const id of ids.slice(0, PARTS / 2)) {
        if (sold.has(id)) continue;
        const answer = await admin().call('POST', `/parts/${id}/updates/sold`, { buyer: 'northwind-logistics' });
        if (answer.status === 200) sold.add(id);
      }
    }
    const partsBefore = await Promise.all(ids.map(async (id) => (await admin().call('GET', `/parts/${id}`)).body));
    const inFlight = partsBefore.filter((part) => part.status !== 'completed').length;
    const killed = killTree(dev);
    expect(processesUsing(dataDir)).toEqual([]);

    dev = await startDev(dataDir);
    for (const id of ids.slice(PARTS / 2)) {
      await admin().untilPart(id, (p) => p.currentStep === 'sold' && p.workflow?.state === 'awaiting', 120_000);
      expect((await admin().call('POST', `/parts/${id}/updates/sold`, { buyer: 'southgate-freight' })).status).toBe(200);
    }
    const done = await Promise.all(
      ids.map((id) => admin().untilPart(id, (p) => p.status === 'completed' || p.status === 'parked', 120_000)),
    );
    const completed = done.filter((part) => part.status === 'completed');
    const registry = /PartRegistry (?:deployed|found) at (0x[0-9a-fA-F]{40})/.exec(dev.output())![1];
    const verify = await tracewellCli(['--json', 'verify', '--data-dir', dataDir]);
    const report = JSON.parse(verify.stdout || '{}');
    // One token each: minted once (one custody row from nobody), held where the lifecycle put it.
    const duplicated = done.filter((part) => part.ownership.filter((o: any) => o.from === null).length !== 1).length;
    console.log(
      `crash suite: ${PARTS} parts, ${inFlight} in flight when ${killed} processes were SIGKILLed (registry ${registry}); ` +
        `${completed.length} completed, ${PARTS - completed.length} lost or parked, ${duplicated} with other than one mint; verify ok=${report.ok}`,
    );
    expect(done.map((part) => [part.id, part.status, part.steps.find((s: any) => s.error)?.error?.code ?? null])).toEqual(
      ids.map((id) => [id, 'completed', null]),
    );
    expect(duplicated).toBe(0);
    for (const part of done) expect(part.owner.id).toBe(sold.has(part.id) ? 'northwind-logistics' : 'southgate-freight');
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(report).toMatchObject({ ok: true, drift: [] });
  }, 420_000);
});
