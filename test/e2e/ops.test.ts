// Ops on the real stack: a chain outage (an RPC gate in front of anvil that can cut the connection)
// parks steps; ops see them in /ops/failures and retry, edit, skip, abort, retry in bulk, or reset,
// and every action lands in the audit trail.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { eq } from 'drizzle-orm';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import { chainTxs, operatorActions } from '../../db/schema.js';
import { askTemporalToReset } from '../../domain/commands/reset.js';
import { finishInterruptedResets } from '../../domain/commands/interrupted-resets.js';
import { tokenIdOf } from '../../domain/chain/part-registry.js';
import type { Stack } from '../../app/wiring/stack.js';
import { apiClient, waitingFor } from '../support/api-client.js';
import { startTestStack, uniqueId } from '../support/env.js';
import { startRpcGate } from '../../tools/faults/rpc-gate.js';
import type { RpcGate } from '../../tools/faults/rpc-gate.js';

let stack: Stack;
let gate: RpcGate;
const { call, untilPart } = apiClient(() => stack.apiUrl);
/** Ops calls act as an operator participant, created in beforeAll. */
const asOps = { headers: {} as Record<string, string> };
let operatorId: string;

/** A lifecycle of this test file's own: mint, anchor a record, wait for the sale, hand over. */
const LIFECYCLE = `line-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  gate = await startRpcGate(inject('rpcUrl'));
  stack = await startTestStack({ CHAIN_RPC_URL: gate.url });
  const published = await call(
    'POST',
    '/lifecycles',
    `
name: ${LIFECYCLE}
params:
  buyer: { type: participant, required: true }
roles:
  manufacturer: { default: acme-foundry }
steps:
  - { id: mint, kind: mint, to: manufacturer }
  - { id: inspect, kind: record, event: inspected }
  - { id: ship, kind: transfer, to: distributor, participant: "\${params.buyer}" }
  - { id: sold, kind: await, event: sold }
`,
    { contentType: 'application/yaml' },
  );
  expect(published.status).toBe(201);
  const operator = await apiClient(() => stack.apiUrl).newParticipant(['operator'], 'ops');
  operatorId = operator.id;
  const { body } = await call('POST', `/participants/${operator.id}/api-keys`, { label: 'ops tests' });
  asOps.headers.authorization = `Bearer ${body.apiKey.key}`;
});
afterAll(async () => {
  await stack?.stop();
  await gate?.close();
});

async function startPart(params: Record<string, unknown> = { buyer: 'northwind-logistics' }): Promise<string> {
  const id = uniqueId('urn:test:ops');
  expect(await call('POST', '/parts', { id, lifecycle: LIFECYCLE, params })).toMatchObject({ status: 201 });
  return id;
}

const parkedOn = (step: string) => (part: any) => part.status === 'parked' && part.currentStep === step;

/** How many times the chain registered this part's token. */
async function mintsOf(id: string): Promise<number> {
  const logs = await stack.core.chain.client.getContractEvents({
    address: stack.core.registry.address,
    abi: partRegistryAbi,
    eventName: 'PartRegistered',
    args: { tokenId: tokenIdOf(id) },
    fromBlock: 0n,
  });
  return logs.length;
}

async function failuresOf(query: string): Promise<any[]> {
  const { status, body } = await call('GET', `/ops/failures?${query}`);
  expect(status).toBe(200);
  return body.failures;
}

describe('a chain outage parks steps; ops retry them', () => {
  it('lists the parked step with its error, and a retry after the outage mints exactly one token', async () => {
    gate.mode = 'down';
    const id = await startPart();
    const parked = await untilPart(id, parkedOn('mint'));
    expect(parked.steps[0]).toMatchObject({ id: 'mint', status: 'failed', attempts: 5, error: { code: 'ChainUnavailableError' } });

    const [failure] = await failuresOf(`lifecycle=${LIFECYCLE}&code=ChainUnavailableError&kind=mint`).then((all) =>
      all.filter((f) => f.partId === id),
    );
    expect(failure).toMatchObject({
      partId: id,
      lifecycle: { name: LIFECYCLE, version: 1 },
      partStatus: 'parked',
      step: { id: 'mint', kind: 'mint' },
      error: { code: 'ChainUnavailableError' },
      attempts: 5,
      lastTxHash: null,
      actions: ['retry', 'skip', 'abort', 'reset'],
    });
    expect(failure.error.message).toMatch(/^the chain node is unavailable: HTTP request failed/);

    gate.mode = 'open';
    // A retry names the failed step; another step is refused.
    expect(await call('POST', `/parts/${id}/steps/ship/retry`, {}, asOps)).toMatchObject({
      status: 409,
      body: { error: { code: 'step_not_failed' } },
    });
    expect(await call('POST', `/parts/${id}/steps/mint/retry`, undefined, asOps)).toMatchObject({
      status: 200,
      body: { id, step: 'mint', action: 'retry' },
    });
    const done = await untilPart(id, waitingFor('sold'));
    expect(done.steps.map((s: any) => [s.id, s.status])).toEqual([
      ['mint', 'succeeded'],
      ['inspect', 'succeeded'],
      ['ship', 'succeeded'],
      ['sold', 'running'],
    ]);
    expect(await mintsOf(id)).toBe(1);
    expect(done.operatorActions).toEqual([
      expect.objectContaining({
        action: 'retry',
        step: 'mint',
        actor: operatorId,
        reason: null,
        before: expect.objectContaining({
          partStatus: 'parked',
          step: expect.objectContaining({ status: 'failed', error: expect.objectContaining({ code: 'ChainUnavailableError' }) }),
        }),
        after: { partStatus: 'active', step: { status: 'retrying' } },
      }),
    ]);
    expect(await failuresOf(`lifecycle=${LIFECYCLE}`)).not.toContainEqual(expect.objectContaining({ partId: id }));
  });

  it('does not send a transaction twice when it landed but the connection dropped before the answer', async () => {
    gate.mode = 'drop-after-send';
    const id = await startPart();
    await untilPart(id, parkedOn('mint'));
    const [failure] = (await failuresOf(`lifecycle=${LIFECYCLE}`)).filter((f) => f.partId === id);
    const [stored] = await stack.core.database.db
      .select()
      .from(chainTxs)
      .where(eq(chainTxs.key, `mint:${id}`));
    expect(failure.lastTxHash).toBe(stored!.txHash);
    expect(stored).toMatchObject({ partId: id, stepId: 'mint', status: 'signed' });

    gate.mode = 'open';
    // The transaction is on chain already: the retry finds it instead of sending another.
    expect(await mintsOf(id)).toBe(1);
    const sentBefore = gate.sent.length;
    expect((await call('POST', `/parts/${id}/steps/mint/retry`, {}, asOps)).status).toBe(200);
    const done = await untilPart(id, waitingFor('sold'));
    expect(done.steps[0]).toMatchObject({ status: 'succeeded', txHash: stored!.txHash });
    expect(await mintsOf(id)).toBe(1);
    const mintSends = gate.sent.slice(sentBefore).filter((raw) => raw === stored!.rawTx);
    expect(mintSends).toEqual([]);
    const [after] = await stack.core.database.db
      .select()
      .from(chainTxs)
      .where(eq(chainTxs.key, `mint:${id}`));
    expect(after).toMatchObject({ txHash: stored!.txHash, nonce: stored!.nonce, status: 'mined' });
  });

  it('retries 20 parts parked by an outage in one request, and all 20 complete', async () => {
    gate.mode = 'down';
    const ids = await Promise.all(Array.from({ length: 20 }, () => startPart()));
    await Promise.all(ids.map((id) => untilPart(id, parkedOn('mint'), 60_000)));
    gate.mode = 'open';

    expect(await call('POST', '/ops/failures/retry', {}, asOps)).toMatchObject({
      status: 400,
      body: { error: { code: 'filter_required' } },
    });
    const { status, body } = await call(
      'POST',
      '/ops/failures/retry',
      { lifecycle: LIFECYCLE, code: 'ChainUnavailableError', reason: 'RPC node back' },
      asOps,
    );
    expect(status).toBe(200);
    expect(body).toEqual({ matched: 20, retried: 20, skipped: 0, errors: 0, notRetried: [] });
    for (const id of ids) {
      const part = await untilPart(id, waitingFor('sold'));
      expect(part.operatorActions).toEqual([expect.objectContaining({ action: 'retry', actor: operatorId, reason: 'RPC node back' })]);
      expect(await mintsOf(id)).toBe(1);
    }
    // Nothing is left to retry: a repeat matches nothing.
    expect((await call('POST', '/ops/failures/retry', { lifecycle: LIFECYCLE, code: 'ChainUnavailableError' }, asOps)).body).toMatchObject({
      matched: 0,
      retried: 0,
    });
  });
});

describe('operator decisions on a step the contract refuses', () => {
  it('retries with edited parameters, validated against the step kind', async () => {
    // harbor-retail is a retailer, so it cannot receive the part as the distributor.
    const id = await startPart({ buyer: 'harbor-retail' });
    const parked = await untilPart(id, parkedOn('ship'));
    expect(parked.steps[2].error).toMatchObject({ code: 'RoleMismatch' });

    const typo = await call('POST', `/parts/${id}/steps/ship/retry`, { params: { partcipant: 'northwind-logistics' } }, asOps);
    expect(typo).toMatchObject({ status: 422, body: { error: { code: 'invalid_step_params' } } });
    expect(typo.body.error.details).toEqual([
      {
        field: 'params.partcipant',
        message: 'not a parameter of a transfer step (did you mean "participant"?); its parameters: to, participant, part',
      },
    ]);
    expect(await call('POST', `/parts/${id}/steps/ship/retry`, { params: { to: 'distributer' } }, asOps)).toMatchObject({
      status: 422,
      body: { error: { code: 'invalid_step_params', message: expect.stringContaining('(did you mean "distributor"?)') } },
    });
    expect(await call('POST', `/parts/${id}/steps/ship/retry`, { params: { participant: 'nobody-inc' } }, asOps)).toMatchObject({
      status: 422,
      body: {
        error: { code: 'invalid_step_params', details: [{ field: 'params.participant', message: 'unknown participant "nobody-inc"' }] },
      },
    });

    const retried = await call(
      'POST',
      `/parts/${id}/steps/ship/retry`,
      { params: { participant: 'northwind-logistics' }, reason: 'buyer corrected' },
      asOps,
    );
    expect(retried).toMatchObject({ status: 200, body: { action: 'retry', params: { participant: 'northwind-logistics' } } });
    const done = await untilPart(id, waitingFor('sold'));
    expect(done.owner.id).toBe('northwind-logistics');
    expect(done.operatorActions).toEqual([
      expect.objectContaining({
        action: 'retry',
        step: 'ship',
        reason: 'buyer corrected',
        before: {
          partStatus: 'parked',
          step: expect.objectContaining({
            status: 'failed',
            params: expect.objectContaining({ participant: 'harbor-retail', to: 'distributor' }),
          }),
        },
        after: { partStatus: 'active', step: { status: 'retrying', edits: { participant: 'northwind-logistics' } } },
      }),
    ]);
  });

  it('skips a step with a reason; the part goes on without it', async () => {
    const id = await startPart({ buyer: 'harbor-retail' });
    await untilPart(id, parkedOn('ship'));
    expect(await call('POST', `/parts/${id}/steps/ship/skip`, {}, asOps)).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', message: 'reason: Required' } },
    });
    expect(await call('POST', `/parts/${id}/steps/ship/skip`, { reason: 'handed over on paper' }, asOps)).toMatchObject({ status: 200 });
    const part = await untilPart(id, waitingFor('sold'));
    expect(part.steps[2]).toMatchObject({ id: 'ship', status: 'skipped', error: { code: 'RoleMismatch' } });
    expect(part.owner.id).toBe('acme-foundry');
    expect(part.operatorActions).toEqual([
      expect.objectContaining({
        action: 'skip',
        reason: 'handed over on paper',
        after: { partStatus: 'active', step: { status: 'skipped' } },
      }),
    ]);
  });

  it('aborts a part with a reason; it ends aborted and takes no more decisions', async () => {
    const id = await startPart({ buyer: 'harbor-retail' });
    await untilPart(id, parkedOn('ship'));
    expect(await call('POST', `/parts/${id}/abort`, { reason: 'lot scrapped' }, asOps)).toMatchObject({
      status: 200,
      body: { id, step: 'ship', action: 'abort' },
    });
    const part = await untilPart(id, (p) => p.workflow?.status === 'COMPLETED');
    expect(part.status).toBe('aborted');
    expect(part.operatorActions).toEqual([
      expect.objectContaining({
        action: 'abort',
        step: 'ship',
        reason: 'lot scrapped',
        after: { partStatus: 'aborted', step: { status: 'failed' } },
      }),
    ]);
    expect(await call('POST', `/parts/${id}/steps/ship/retry`, {}, asOps)).toMatchObject({
      status: 409,
      body: { error: { code: 'part_not_active' } },
    });
    expect(await failuresOf(`lifecycle=${LIFECYCLE}&status=all`)).not.toContainEqual(expect.objectContaining({ partId: id }));
  });

  it('refuses decisions on a part that is not parked', async () => {
    const id = await startPart();
    await untilPart(id, waitingFor('sold'));
    expect(await call('POST', `/parts/${id}/steps/sold/retry`, {}, asOps)).toMatchObject({
      status: 409,
      body: { error: { code: 'part_not_parked' } },
    });
    expect(await call('POST', `/parts/urn:test:none/abort`, { reason: 'x' }, asOps)).toMatchObject({
      status: 404,
      body: { error: { code: 'part_not_found' } },
    });
  });

  it('lets only operators decide: another participant gets 403, and no key at all 401', async () => {
    const id = await startPart();
    await untilPart(id, waitingFor('sold'));
    const { api: retailer } = await apiClient(() => stack.apiUrl).newParticipant([], 'shop');
    expect(await retailer.call('GET', '/ops/failures')).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(await retailer.call('POST', `/parts/${id}/abort`, { reason: 'not mine' })).toMatchObject({
      status: 403,
      body: { error: { code: 'forbidden' } },
    });
    const anonymous = await fetch(`${stack.apiUrl}/ops/failures`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    expect((await call('GET', `/parts/${id}`)).body.status).toBe('active');
  });
});

describe('the failure list', () => {
  it('filters by step kind, error code and age, and pages with a cursor', async () => {
    const ids = await Promise.all(Array.from({ length: 3 }, () => startPart({ buyer: 'harbor-retail' })));
    await Promise.all(ids.map((id) => untilPart(id, parkedOn('ship'))));
    const mine = (failures: any[]) => failures.filter((f) => ids.includes(f.partId)).map((f) => f.partId);

    expect(mine(await failuresOf(`lifecycle=${LIFECYCLE}&kind=transfer&code=RoleMismatch&limit=500`)).sort()).toEqual([...ids].sort());
    expect(mine(await failuresOf(`lifecycle=${LIFECYCLE}&kind=mint&limit=500`))).toEqual([]);
    expect(mine(await failuresOf(`lifecycle=${LIFECYCLE}&olderThan=1h&limit=500`))).toEqual([]);
    expect(mine(await failuresOf(`lifecycle=${LIFECYCLE}&newerThan=1h&limit=500`)).length).toBe(3);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const { body }: { body: any } = await call(
        'GET',
        `/ops/failures?lifecycle=${LIFECYCLE}&code=RoleMismatch&limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(body.failures.length).toBeLessThanOrEqual(1);
      seen.push(...body.failures.map((f: any) => f.partId));
      cursor = body.nextCursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual(expect.arrayContaining(ids));

    expect(await call('GET', '/ops/failures?olderThan=soon')).toMatchObject({ status: 400, body: { error: { code: 'invalid_query' } } });
    expect(await call('GET', '/ops/failures?cursor=nonsense')).toMatchObject({ status: 400, body: { error: { code: 'invalid_cursor' } } });
    for (const id of ids) await call('POST', `/parts/${id}/abort`, { reason: 'test cleanup' }, asOps);
  });

  it('finds parked parts through Temporal search attributes too', async () => {
    const id = await startPart({ buyer: 'harbor-retail' });
    await untilPart(id, parkedOn('ship'));
    const query = `TracewellPartId = "${id}" AND TracewellStatus = "parked" AND TracewellStep = "ship" AND TracewellErrorCode = "RoleMismatch" AND TracewellLifecycle = "${LIFECYCLE}"`;
    const deadline = Date.now() + 20_000;
    let found: string[] = [];
    while (found.length === 0 && Date.now() < deadline) {
      found = [];
      for await (const workflow of stack.client.workflow.list({ query })) found.push(workflow.workflowId);
      if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(found).toEqual([id]);
    await call('POST', `/parts/${id}/abort`, { reason: 'test cleanup' }, asOps);
  });
});

describe('reset for workflow-level breakage', () => {
  it('resets a part to its last workflow task: a new run carries on where the part was, audited', async () => {
    const id = await startPart();
    const before = await untilPart(id, waitingFor('sold'));
    expect(await call('POST', `/parts/${id}/reset`, { reason: 'bad deploy', eventId: 1 }, asOps)).toMatchObject({
      status: 422,
      body: { error: { code: 'invalid_reset_point' } },
    });
    // A reason SQL cannot store is refused before anything happens: no new run, no audit row.
    expect(await call('POST', `/parts/${id}/reset`, { reason: 'bad\u0000deploy' }, asOps)).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request' } },
    });
    expect(await untilPart(id, (p) => p.operatorActions.length === 0)).toMatchObject({ workflow: { runId: before.workflow.runId } });
    const reset = await call('POST', `/parts/${id}/reset`, { reason: 'bad deploy rolled back' }, asOps);
    expect(reset).toMatchObject({ status: 200, body: { partId: id, previousRunId: before.workflow.runId } });
    expect(reset.body.runId).not.toBe(before.workflow.runId);

    const after = await untilPart(id, (p) => p.workflow.runId === reset.body.runId && waitingFor('sold')(p));
    expect(after.steps.map((s: any) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'running']);
    expect(await call('POST', `/parts/${id}/updates/sold`, {})).toMatchObject({ status: 200 });
    const done = await untilPart(id, (p) => p.status === 'completed');
    expect(await mintsOf(id)).toBe(1);
    expect(done.operatorActions).toEqual([
      expect.objectContaining({
        action: 'reset',
        step: null,
        actor: operatorId,
        reason: 'bad deploy rolled back',
        before: { partStatus: 'active', runId: before.workflow.runId, workflowStatus: 'RUNNING' },
        after: { partStatus: 'active', runId: reset.body.runId, eventId: reset.body.eventId },
      }),
    ]);
    expect(await call('POST', `/parts/${id}/reset`, { reason: 'again' }, asOps)).toMatchObject({
      status: 409,
      body: { error: { code: 'part_completed' } },
    });
  });

  it('finishes a reset interrupted between its record and Temporal, and withdraws one Temporal refuses', async () => {
    const ops = { db: stack.core.database.db, temporal: stack.client };
    // Two parts waiting; for each the record was written (`requested`) and then the process died:
    // for the first after Temporal made the reset, for the second before Temporal was asked.
    const [asked, unasked] = [await startPart(), await startPart()];
    const interrupted = async (id: string, askTemporal: boolean) => {
      const part = await untilPart(id, waitingFor('sold'));
      const history = await stack.client.workflow.getHandle(id, part.workflow.runId).fetchHistory();
      const eventId = Number(history.events!.findLast((event) => event.eventType === 6)!.eventId); // WorkflowTaskCompleted
      const requestId = randomUUID();
      await stack.core.database.db.insert(operatorActions).values({
        requestId: `reset:${requestId}`,
        partId: id,
        stepId: null,
        action: 'reset',
        actor: operatorId,
        reason: 'bad deploy',
        before: { partStatus: 'active', runId: part.workflow.runId, workflowStatus: 'RUNNING' },
        after: { partStatus: 'active', eventId, state: 'requested' },
      });
      const ask = { partId: id, runId: part.workflow.runId, reason: 'bad deploy', actor: operatorId, eventId, requestId };
      return { requestId, runBefore: part.workflow.runId, newRun: askTemporal ? await askTemporalToReset(ops, ask) : undefined };
    };
    const first = await interrupted(asked, true);
    const second = await interrupted(unasked, false);
    // A record whose run Temporal does not know is refused by Temporal: withdrawn, not left `requested`.
    const ghost = await startPart();
    await untilPart(ghost, waitingFor('sold'));
    await stack.core.database.db.insert(operatorActions).values({
      requestId: `reset:${randomUUID()}`,
      partId: ghost,
      stepId: null,
      action: 'reset',
      actor: operatorId,
      reason: 'bad deploy',
      before: { partStatus: 'active', runId: randomUUID(), workflowStatus: 'RUNNING' },
      after: { partStatus: 'active', eventId: 3, state: 'requested' },
    });

    const outcome = await finishInterruptedResets(ops, 0);
    expect(outcome.finished).toEqual(expect.arrayContaining([`reset:${first.requestId}`, `reset:${second.requestId}`]));
    expect(outcome.withdrawn).toHaveLength(1);
    // The first keeps the run Temporal made then (one reset, not two); the second gets its run now.
    const one = await untilPart(asked, (p) => p.operatorActions.length === 1 && !p.operatorActions[0].after.state);
    expect(one.operatorActions[0].after).toEqual({ partStatus: 'active', runId: first.newRun, eventId: expect.any(Number) });
    expect(one.workflow.runId).toBe(first.newRun);
    const two = await untilPart(unasked, (p) => p.operatorActions.length === 1 && !p.operatorActions[0].after.state);
    expect(two.operatorActions[0].after.runId).not.toBe(second.runBefore);
    expect(two.workflow.runId).toBe(two.operatorActions[0].after.runId);
    expect((await untilPart(ghost, waitingFor('sold'))).operatorActions).toEqual([]);
    // Both reset parts carry on to the end, each with one token.
    for (const id of [asked, unasked]) {
      expect(await call('POST', `/parts/${id}/updates/sold`, {})).toMatchObject({ status: 200 });
      await untilPart(id, (p) => p.status === 'completed');
      expect(await mintsOf(id)).toBe(1);
    }
    expect(await finishInterruptedResets(ops, 0)).toEqual({ finished: [], withdrawn: [] });
  });
});

describe('tracewell ops (the CLI)', () => {
  const cli = (...args: string[]) => cliWithKey(asOps.headers.authorization!.slice('Bearer '.length), ...args);
  const cliWithKey = async (apiKey: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    try {
      const { stdout, stderr } = await promisify(execFile)(process.execPath, [
        'app/cli/bin.js',
        'ops',
        '--api',
        stack.apiUrl,
        '--api-key',
        apiKey,
        ...args,
      ]);
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };

  it('lists failures, retries one with --set, and retries the rest with a progress bar', async () => {
    gate.mode = 'down';
    const outage = await Promise.all([startPart(), startPart(), startPart()]);
    await Promise.all(outage.map((id) => untilPart(id, parkedOn('mint'))));
    gate.mode = 'open';
    const refused = await startPart({ buyer: 'harbor-retail' });
    await untilPart(refused, parkedOn('ship'));

    const listed = await cli('failures', '--lifecycle', LIFECYCLE, '--code', 'ChainUnavailableError', '--limit', '500');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^PART\s+LIFECYCLE\s+STEP\s+CODE\s+ATTEMPTS\s+AGE\s+STATUS\s+MESSAGE$/m);
    for (const id of outage)
      expect(listed.stdout).toMatch(
        new RegExp(
          `^${id}\\s+${LIFECYCLE} v1\\s+mint \\(mint\\)\\s+ChainUnavailableError\\s+5\\s+\\d+s\\s+parked\\s+the chain node is unavailable`,
          'm',
        ),
      );

    expect(await cli('skip', refused, 'ship')).toMatchObject({
      code: 2,
      stderr: expect.stringContaining("required option '--reason <text>' not specified"),
    });
    expect(await cli('retry', refused, 'ship', '--set', 'participant=nobody-inc')).toMatchObject({
      code: 2,
      stderr: 'tracewell: invalid_step_params: params.participant: unknown participant "nobody-inc"\n',
    });
    expect(await cli('retry', refused, 'ship', '--set', 'participant=northwind-logistics', '--reason', 'buyer corrected')).toMatchObject({
      code: 0,
      stdout: `retrying ${refused} step ship with {"participant":"northwind-logistics"}\n`,
    });
    expect((await untilPart(refused, waitingFor('sold'))).owner.id).toBe('northwind-logistics');

    const all = await cli('retry-all', '--lifecycle', LIFECYCLE, '--code', 'ChainUnavailableError', '--reason', 'node back');
    expect(all).toMatchObject({ code: 0, stdout: 'matched 3, retried 3, skipped 0, errors 0\n' });
    expect(all.stderr).toContain('[##############################] 3/3 100%');
    for (const id of outage) {
      const part = await untilPart(id, waitingFor('sold'));
      expect(part.operatorActions).toEqual([expect.objectContaining({ action: 'retry', actor: operatorId, reason: 'node back' })]);
    }
  });

  it('says the API refused a key it does not know', async () => {
    expect(await cliWithKey('tw_not-a-key', 'failures')).toMatchObject({
      code: 6,
      stdout: '',
      stderr: `tracewell: api_key_refused: the API at ${stack.apiUrl} refused the API key: the API key is not valid (unknown or revoked); set TRACEWELL_API_KEY or --api-key to a valid key\n`,
    });
  });
});
