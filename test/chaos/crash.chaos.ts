// Crashes as they happen: `tracewell dev --data-dir` SIGKILLed with its whole process tree (the
// Node process, the Temporal server, anvil, Azurite) while parts are minting and transferring, then
// started again on the same directory; four rounds of CRASH_PARTS (default 100) new parts each. Then
// the chain node alone is SIGKILLed with parts starting. anvil saves its state every few seconds, so
// each kill loses its last blocks while SQL and Temporal keep their record of those transactions:
// the start-up recovery of lost writes must bring them back. Every part must complete with its one
// token where its lifecycle put it, every transaction a step recorded must be on chain, and the
// mirror must verify clean against the chain.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api-client.js';
import { interrupt, processesUsing, startDev, tracewellCli } from '../support/dev-stack.js';
import type { DevRun } from '../support/dev-stack.js';
import { uniqueId } from '../support/env.js';

const PARTS = Number(process.env.CRASH_PARTS ?? 100);
const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 4);
const dataDir = mkdtempSync(join(tmpdir(), 'tracewell-crash-'));
let dev: DevRun | undefined;
const admin = () => apiClient(() => dev!.apiUrl, dev!.apiKey);
/** Every part started, and those sold to northwind before a kill (the rest go to southgate at the end). */
const parts: string[] = [];
const sold = new Set<string>();
const figures: string[] = [];

afterAll(async () => {
  if (dev) await interrupt(dev);
  console.log(`crash suite:\n  ${figures.join('\n  ')}`);
  rmSync(dataDir, { recursive: true, force: true });
});

function kill(pids: number[]): number {
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

/** SIGKILL the dev process and every process it started (they name the data directory). */
function killTree(run: DevRun): number {
  return kill([run.child.pid!, ...processesUsing(dataDir).map((line) => Number(line.split(' ')[0]))]);
}

/** Starts `count` parts, a few at a time. */
async function startParts(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => uniqueId('urn:crash:part'));
  for (let i = 0; i < ids.length; i += 10) {
    const answers = await Promise.all(
      ids.slice(i, i + 10).map((id) => admin().call('POST', '/parts', { id, lifecycle: 'part-basic', params: { batch: 'crash' } })),
    );
    for (const answer of answers) expect(answer.status).toBe(201);
  }
  parts.push(...ids);
  return ids;
}

/** Sells `ids` to northwind as each reaches its sale, for up to `ms`. */
async function sellWhenWaiting(ids: string[], ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (ids.some((id) => !sold.has(id)) && Date.now() < deadline) {
    await Promise.all(
      ids
        .filter((id) => !sold.has(id))
        .map(async (id) => {
          const answer = await admin().call('POST', `/parts/${id}/updates/sold`, { buyer: 'northwind-logistics' });
          if (answer.status === 200) sold.add(id);
        }),
    );
  }
}

async function inFlight(): Promise<number> {
  const states = await Promise.all(parts.map(async (id) => (await admin().call('GET', `/parts/${id}`)).body));
  return states.filter((part) => part.status !== 'completed').length;
}

/** Timed restart on the same data directory; the recovery's log line, when it had work. */
async function restart(label: string): Promise<void> {
  const started = Date.now();
  dev = await startDev(dataDir);
  const recovery = /lost writes: [^\n]*/.exec(dev.output())?.[0] ?? 'lost writes: none';
  figures.push(`${label}: restarted in ${Date.now() - started} ms; ${recovery}`);
}

describe('a crash of the whole dev stack with parts in flight', () => {
  it(`leaves every part completing with its one token: ${ROUNDS} rounds of ${PARTS} parts, the tree SIGKILLed each time`, async () => {
    dev = await startDev(dataDir);
    for (let round = 1; round <= ROUNDS; round++) {
      const ids = await startParts(PARTS);
      // Half of them get their sale as soon as they wait for it, so transfers are in flight too.
      await sellWhenWaiting(ids.slice(0, PARTS / 2), 20_000);
      const flying = await inFlight();
      const killed = killTree(dev!);
      expect(processesUsing(dataDir)).toEqual([]);
      figures.push(`round ${round}: ${flying} of ${parts.length} parts in flight when ${killed} processes were SIGKILLed`);
      await restart(`round ${round}`);
    }
  }, 1_200_000);

  it('and a SIGKILL of the chain node alone while parts start', async () => {
    const ids = await startParts(PARTS);
    await sellWhenWaiting(ids.slice(0, PARTS / 2), 5_000);
    const anvil = processesUsing(dataDir)
      .filter((line) => /\banvil\b/.test(line))
      .map((line) => Number(line.split(' ')[0]));
    expect(anvil).toHaveLength(1);
    const flying = await inFlight();
    kill(anvil);
    figures.push(`chain node: SIGKILLed with ${flying} of ${parts.length} parts in flight`);
    // Steps meet an unreachable chain meanwhile; the stack is then stopped and started again.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await interrupt(dev!);
    await restart('chain node');
  }, 600_000);

  it('every part completes with one token, every recorded transaction is on chain, and verify is clean', async () => {
    const rest = parts.filter((id) => !sold.has(id));
    for (let i = 0; i < rest.length; i += 20) {
      await Promise.all(
        rest.slice(i, i + 20).map(async (id) => {
          await admin().untilPart(id, (p) => p.currentStep === 'sold' && p.workflow?.state === 'awaiting', 300_000);
          expect((await admin().call('POST', `/parts/${id}/updates/sold`, { buyer: 'southgate-freight' })).status).toBe(200);
        }),
      );
    }
    const done = await Promise.all(
      parts.map((id) => admin().untilPart(id, (p) => p.status === 'completed' || p.status === 'parked', 300_000)),
    );
    const completed = done.filter((part) => part.status === 'completed');
    const verify = await tracewellCli(['--json', 'verify', '--data-dir', dataDir]);
    const report = JSON.parse(verify.stdout || '{}');
    // One token each: minted once (one custody row from nobody), held where the lifecycle put it.
    const duplicated = done.filter((part) => part.ownership.filter((o: any) => o.from === null).length !== 1).length;
    const stepTxMissing = (report.drift ?? []).filter((item: any) => item.kind === 'step_tx_missing').length;
    figures.push(
      `${parts.length} parts: ${completed.length} completed, ${parts.length - completed.length} lost or parked, ` +
        `${duplicated} with other than one mint; verify ok=${report.ok}, ${report.stepTransactions} step transactions checked, ${stepTxMissing} missing`,
    );
    expect(done.map((part) => [part.id, part.status, part.steps.find((s: any) => s.error)?.error?.code ?? null])).toEqual(
      parts.map((id) => [id, 'completed', null]),
    );
    expect(duplicated).toBe(0);
    for (const part of done) expect(part.owner.id).toBe(sold.has(part.id) ? 'northwind-logistics' : 'southgate-freight');
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(report).toMatchObject({ ok: true, drift: [] });
  }, 900_000);
});
