// The ops view of chain transactions over HTTP, on a stack with a chain of this file's own (an anvil
// whose mining the test pauses): a part's mint left unmined is listed pending, then stuck, with its
// age, signer, nonce, part and attempts; an operator re-sends it (recorded with the reason), it
// becomes attempt 2 with higher fees, and once a block is mined the part completes with one token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import type { Hex } from 'viem';
import { chainTxs, operatorActions } from '../../db/schema.js';
import { freePort } from '../../app/devstack/process.js';
import type { RunningService } from '../../app/devstack/process.js';
import { startAnvil } from '../../app/devstack/services.js';
import type { Stack } from '../../app/wiring/stack.js';
import { apiClient } from '../support/api-client.js';
import { startTestStack, uniqueId } from '../support/env.js';
import { until } from '../support/until.js';

let anvil: RunningService;
let rpcUrl: string;
let stack: Stack;
const { call, untilPart } = apiClient(() => stack.apiUrl);

async function rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
  const answer = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = (await answer.json()) as { result: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

beforeAll(async () => {
  const port = await freePort();
  // A chain id of its own: the deployment record of the suite's shared chain stays untouched.
  anvil = await startAnvil({ port, chainId: 45_000 + Math.floor(Math.random() * 1000) });
  rpcUrl = `http://127.0.0.1:${port}`;
  // A receipt wait longer than the test's pause, so the mint's first attempt outlives the re-send.
  stack = await startTestStack({ CHAIN_RPC_URL: rpcUrl, CHAIN_RECEIPT_TIMEOUT: '45000' });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  await anvil?.stop();
});

describe('GET /ops/transactions and POST /ops/transactions/:key/resend', () => {
  it('lists a stuck mint with its age and attempts; a resend makes it attempt 2, and once mined the part completes', async () => {
    await rpc('evm_setAutomine', [false]);
    const partId = uniqueId('urn:test:stuck');
    expect((await call('POST', '/parts', { id: partId, lifecycle: 'part-basic', params: { batch: 'stuck' } })).status).toBe(201);

    const listed: any = await until(
      'the mint listed pending',
      async () => {
        const { body } = await call('GET', '/ops/transactions?status=pending&signer=acme-foundry');
        return body.transactions.find((tx: any) => tx.items.parts.some((p: any) => p.partId === partId));
      },
      30_000,
    );
    expect(listed).toMatchObject({
      status: expect.stringMatching(/^(signed|sent)$/),
      attempts: 1,
      signer: { participantId: 'acme-foundry', address: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/) },
      items: { count: 1, parts: [{ partId, stepId: 'mint' }] },
      replacedBy: null,
    });
    expect(listed.ageSeconds).toBeGreaterThanOrEqual(0);
    expect(listed.nonce).toEqual(expect.any(Number));

    // Pending longer than the threshold: stuck.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const stuck = await call('GET', '/ops/transactions?status=stuck&stuckAfter=1s&signer=acme-foundry');
    expect(stuck.body.transactions.find((tx: any) => tx.key === listed.key)).toMatchObject({ stuck: true, attempts: 1 });

    const resent = await call('POST', `/ops/transactions/${encodeURIComponent(listed.key)}/resend`, { reason: 'mining paused, bump it' });
    expect(resent.status, JSON.stringify(resent.body)).toBe(200);
    expect(resent.body).toMatchObject({ resent: true, transaction: { key: `${listed.key}#2`, attempts: 2, nonce: listed.nonce } });
    // The node holds the new attempt (in place of the first: same nonce, higher fees).
    const pooled = await rpc<{ nonce: Hex } | null>('eth_getTransactionByHash', [resent.body.transaction.txHash]);
    expect(Number(pooled!.nonce)).toBe(listed.nonce);
    const all = await call('GET', '/ops/transactions?status=all&signer=acme-foundry');
    expect(all.body.transactions.find((tx: any) => tx.key === listed.key)).toMatchObject({
      status: 'replaced',
      replacedBy: `${listed.key}#2`,
    });
    const [action] = await stack.core.database.db
      .select()
      .from(operatorActions)
      .where(eq(operatorActions.requestId, resent.body.requestId));
    expect(action).toMatchObject({ action: 'resend_tx', partId, stepId: 'mint', reason: 'mining paused, bump it' });
    expect(action!.after).toMatchObject({ txKey: `${listed.key}#2`, attempts: 2 });

    await rpc('anvil_mine', ['0x1']);
    await rpc('evm_setAutomine', [true]);
    await untilPart(partId, (p) => p.currentStep === 'sold' && p.workflow?.state === 'awaiting', 90_000);
    expect((await call('POST', `/parts/${partId}/updates/sold`, { buyer: 'northwind-logistics' })).status).toBe(200);
    const done = await untilPart(partId, (p) => p.status === 'completed', 60_000);
    expect(done.ownership.filter((o: any) => o.from === null)).toHaveLength(1);
    expect(done.owner.id).toBe('northwind-logistics');
    // The signer's leader (healing each tick) recorded the attempt that was mined.
    const [winner] = await stack.core.database.db
      .select()
      .from(chainTxs)
      .where(eq(chainTxs.key, `${listed.key}#2`));
    expect(winner).toMatchObject({ status: 'mined', nonce: listed.nonce });
    const pending = await call('GET', '/ops/transactions?status=pending&signer=acme-foundry');
    expect(pending.body.transactions.some((tx: any) => tx.key.startsWith(listed.key))).toBe(false);
    const all2 = await call('GET', '/ops/transactions?status=all&signer=acme-foundry');
    expect(all2.body.transactions.find((tx: any) => tx.key === listed.key)).toMatchObject({
      status: 'replaced',
      replacedBy: `${listed.key}#2`,
    });
  }, 240_000);

  it('answers 404 for an unknown transaction, 409 for one not pending, 400 for a bad filter', async () => {
    const unknown = await call('POST', '/ops/transactions/no-such-key/resend', { reason: 'x' });
    expect(unknown).toMatchObject({ status: 404, body: { error: { code: 'transaction_not_found' } } });
    const { body } = await call('GET', '/ops/transactions?status=all&limit=500');
    const mined = await call('GET', '/ops/transactions?status=all');
    const replaced = [...body.transactions, ...mined.body.transactions].find((tx: any) => tx.status === 'replaced');
    expect(replaced).toBeDefined();
    const refused = await call('POST', `/ops/transactions/${encodeURIComponent(replaced.key)}/resend`, { reason: 'x' });
    expect(refused).toMatchObject({ status: 409, body: { error: { code: 'transaction_not_pending' } } });
    expect((await call('GET', '/ops/transactions?status=stale')).status).toBe(400);
    expect((await call('GET', '/ops/transactions?signer=nobody-here')).body).toMatchObject({ error: { code: 'participant_not_found' } });
    expect((await call('POST', '/ops/transactions/x/resend', {})).status).toBe(400);
  });
});
