// The contract REST gateway on the whole stack, with a contract compiled here (overloads, a struct
// holding an array of structs, a function returning an array of structs, custom errors): registered,
// invoked as a participant, queried, its revert decoded, an idempotent repeat sending one
// transaction, its events read, and its generated OpenAPI document accepted by a validator.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import solc from 'solc';
import { sql } from 'drizzle-orm';
import { createWalletClient, http } from 'viem';
import type { Abi, Hex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_MNEMONIC } from '../../app/devstack/services.js';
import type { Stack } from '../../app/wiring/stack.js';
import { apiClient } from '../support/api-client.js';
import type { ApiClient } from '../support/api-client.js';
import { startTestStack } from '../support/env.js';
import { responseChecker } from '../support/openapi-responses.js';

let stack: Stack;
let buyer: { id: string; address: string; api: ApiClient };
let address: Hex;
const api = apiClient(() => stack.apiUrl);
const name = `orders-${Date.now().toString(36)}`;

function compileOrders(): { abi: Abi; bytecode: Hex } {
  const content = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'Orders.sol'), 'utf8');
  const input = {
    language: 'Solidity',
    sources: { 'Orders.sol': { content } },
    settings: { evmVersion: 'cancun', outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } } },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input)));
  const errors = (output.errors ?? []).filter((e: { severity: string }) => e.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((e: { formattedMessage: string }) => e.formattedMessage).join('\n'));
  const contract = output.contracts['Orders.sol'].Orders;
  return { abi: contract.abi, bytecode: `0x${contract.evm.bytecode.object}` };
}

const order = (qty: string) => ({
  buyer: '0x1c8ea173abf56890644d1be62b12d59754af7c48',
  items: [
    { sku: 'chip-7nm', qty },
    { sku: 'wafer', qty: '3' },
  ],
  ref: `0x${'ab'.repeat(32)}`,
});

beforeAll(async () => {
  stack = await startTestStack();
  const { abi, bytecode } = compileOrders();
  // An anvil account no participant uses deploys it.
  const deployer = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 17 });
  const wallet = createWalletClient({ account: deployer, chain: stack.core.chain.client.chain, transport: http(stack.rpcUrl) });
  const hash = await wallet.deployContract({ abi, bytecode });
  address = (await stack.core.chain.client.waitForTransactionReceipt({ hash })).contractAddress!;
  const registered = await api.call('POST', '/contracts', { name, address, abi });
  expect(registered).toMatchObject({
    status: 201,
    body: { name, methods: expect.arrayContaining(['place', 'cancel(uint256)', 'cancel(uint256,string)']) },
  });
  buyer = await api.newParticipant([], 'gw');
});

afterAll(async () => {
  await stack?.stop();
});

describe('contract gateway', () => {
  it('invokes a function taking a struct with an array of structs, and queries one returning an array of structs', async () => {
    const placed = await buyer.api.call('POST', `/contracts/${name}/invoke/place`, { input: { order: order('100000000000000000001') } });
    expect(placed.status).toBe(200);
    expect(placed.body).toMatchObject({ txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/), status: 'success' });
    expect(placed.body.events).toEqual([
      expect.objectContaining({
        name: 'Placed',
        args: {
          id: '1',
          buyer: '0x1C8EA173Abf56890644D1be62b12d59754af7C48',
          items: [
            { sku: 'chip-7nm', qty: '100000000000000000001' },
            { sku: 'wafer', qty: '3' },
          ],
        },
      }),
    ]);
    expect(await buyer.api.call('POST', `/contracts/${name}/query/lastOrderItems`, {})).toMatchObject({
      status: 200,
      body: {
        output: {
          _0: [
            { sku: 'chip-7nm', qty: '100000000000000000001' },
            { sku: 'wafer', qty: '3' },
          ],
        },
      },
    });
    expect((await buyer.api.call('POST', `/contracts/${name}/query/totals`, { input: { _0: '1' } })).body).toEqual({
      output: { _0: '100000000000000000004' },
    });
  });

  it('decodes a revert, names a bad field, and reaches overloads by signature', async () => {
    expect(
      await buyer.api.call('POST', `/contracts/${name}/invoke/place`, { input: { order: order('1000000000000000000000000000001') } }),
    ).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'contract_reverted',
          details: {
            name: 'OutOfStock',
            signature: 'OutOfStock(string,uint256)',
            args: { sku: 'chip-7nm', available: '1000000000000000000000000000000' },
          },
        },
      },
    });
    expect(
      await buyer.api.call('POST', `/contracts/${name}/invoke/place`, {
        input: { order: { ...order('1'), items: [{ sku: 'x', qty: 'many' }] } },
      }),
    ).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'invalid_argument',
          message: 'input.order.items[0].qty: expected a decimal string (uint256), got "many"',
          details: [{ field: 'input.order.items[0].qty' }],
        },
      },
    });
    expect(await buyer.api.call('POST', `/contracts/${name}/invoke/cancel`, { input: { id: '1' } })).toMatchObject({
      status: 404,
      body: { error: { code: 'method_not_found' } },
    });
    const cancelled = await buyer.api.call('POST', `/contracts/${name}/invoke/${encodeURIComponent('cancel(uint256,string)')}`, {
      input: { id: '1', reason: 'changed mind' },
    });
    expect(cancelled.body.events).toEqual([expect.objectContaining({ name: 'Cancelled', args: { id: '1', reason: 'changed mind' } })]);
    expect(
      await buyer.api.call('POST', `/contracts/${name}/invoke/${encodeURIComponent('cancel(uint256)')}`, { input: { id: '1' } }),
    ).toMatchObject({
      status: 409,
      body: { error: { details: { name: 'UnknownOrder', args: { id: '1' } } } },
    });
  });

  it('sends one transaction for repeats with one Idempotency-Key', async () => {
    const before = (await buyer.api.call('POST', `/contracts/${name}/query/count`, {})).body.output._0;
    const key = `order-${Date.now()}`;
    const first = await buyer.api.call(
      'POST',
      `/contracts/${name}/invoke/place`,
      { input: { order: order('7') } },
      { headers: { 'idempotency-key': key } },
    );
    const second = await buyer.api.call(
      'POST',
      `/contracts/${name}/invoke/place`,
      { input: { order: order('7') } },
      { headers: { 'idempotency-key': key } },
    );
    expect(first.status).toBe(200);
    expect(second.body.txHash).toBe(first.body.txHash);
    expect((await buyer.api.call('POST', `/contracts/${name}/query/count`, {})).body.output._0).toBe(String(Number(before) + 1));
  });

  it('lists decoded events and serves an OpenAPI 3.1 document a validator accepts', async () => {
    const events = await buyer.api.call('GET', `/contracts/${name}/events?event=Placed`);
    expect(events.body.events.map((event: any) => event.args.id)).toEqual(['1', '2']);
    expect((await buyer.api.call('GET', `/contracts/${name}/events?event=Nope`)).status).toBe(400);
    // The contract's document describes what the gateway answers: a receipt with decoded events,
    // outputs (an array of structs among them), a decoded revert, and events.
    const contractDocument = (await buyer.api.call('GET', `/contracts/${name}/openapi.json`)).body;
    const matches = responseChecker(contractDocument);
    const path = (kind: string, method: string) => `/contracts/${name}/${kind}/${method}`;
    const placed = await buyer.api.call('POST', path('invoke', 'place'), { input: { order: order('2') } });
    const reverted = await buyer.api.call('POST', path('invoke', 'place'), { input: { order: order('1000000000000000000000000000001') } });
    const required = await buyer.api.call('POST', path('invoke', 'place'), { input: { order: { ...order('1'), items: [] } } });
    expect(required).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'contract_reverted',
          message: expect.stringContaining('an order needs items'),
          details: { name: 'Error', args: {} },
        },
      },
    });
    const items = await buyer.api.call('POST', path('query', 'lastOrderItems'), {});
    const totals = await buyer.api.call('POST', path('query', 'totals'), { input: { _0: '1' } });
    expect([placed.status, reverted.status, items.status, totals.status]).toEqual([200, 409, 200, 200]);
    expect([
      ...matches('post', path('invoke', 'place'), 200, placed.body),
      ...matches('post', path('invoke', 'place'), 409, reverted.body),
      ...matches('post', path('invoke', 'place'), 409, required.body),
      ...matches('post', path('query', 'lastOrderItems'), 200, items.body),
      ...matches('post', path('query', 'totals'), 200, totals.body),
      ...matches('get', `/contracts/${name}/events`, 200, events.body),
    ]).toEqual([]);
    expect(matches('post', path('query', 'totals'), 200, { output: { _0: 4 } })).not.toEqual([]); // a number where uint256 is a string

    for (const contract of [name, 'PartRegistry']) {
      const document = await buyer.api.call('GET', `/contracts/${contract}/openapi.json`);
      const validator = new Validator();
      const result = await validator.validate(document.body);
      expect(result.errors ?? [], contract).toEqual([]);
      expect(result.valid).toBe(true);
    }
    expect((await api.call('GET', '/contracts')).body.contracts.map((contract: any) => contract.name)).toEqual(
      expect.arrayContaining(['PartRegistry', name]),
    );
    expect((await buyer.api.call('POST', '/contracts', { name: 'x', address, abi: [{ type: 'function' }] })).status).toBe(403);
    // A result type with no JSON form is refused at registration, not by every later document request.
    const unmappable = [
      { type: 'function', name: 'rate', inputs: [], outputs: [{ name: '', type: 'fixed128x18' }], stateMutability: 'view' },
    ];
    expect(await api.call('POST', '/contracts', { name: `${name}-fixed`, address, abi: unmappable })).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'invalid_abi',
          message: expect.stringMatching(/^abi\[0\]\.outputs\[0\]\.type: "fixed128x18" is not a Solidity type/),
        },
      },
    });
    // A malformed ABI, and a type Solidity does not have, are refused naming the entry and path.
    const malformed = [unmappable[0], { type: 'function', name: 'place', stateMutability: 'nonpayable' }];
    expect(await api.call('POST', '/contracts', { name: `${name}-malformed`, address, abi: malformed })).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'invalid_abi',
          message: expect.stringMatching(/^abi\[0\]\.outputs\[0\]\.type: .*; abi\[1\]\.inputs: required; abi\[1\]\.outputs: required$/),
          details: expect.arrayContaining([{ field: 'abi[1].inputs', message: 'required' }]),
        },
      },
    });
    const wide = [
      { type: 'function', name: 'set', inputs: [{ name: 'qty', type: 'uint257' }], outputs: [], stateMutability: 'nonpayable' },
    ];
    expect(await api.call('POST', '/contracts', { name: `${name}-wide`, address, abi: wide })).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'invalid_abi',
          message: expect.stringMatching(/^abi\[0\]\.inputs\[0\]\.type: "uint257" is not a Solidity type \(expected /),
        },
      },
    });
    expect((await api.call('GET', '/contracts')).body.contracts.map((contract: any) => contract.name)).not.toContain(`${name}-wide`);
    // Registered where no contract is: a clear 422, not a 500.
    const nowhere = `nowhere-${Date.now().toString(36)}`;
    const { abi } = compileOrders();
    expect((await api.call('POST', '/contracts', { name: nowhere, address: `0x${'12'.repeat(20)}`, abi })).status).toBe(201);
    expect(await buyer.api.call('POST', `/contracts/${nowhere}/query/count`, {})).toMatchObject({
      status: 422,
      body: { error: { code: 'no_result' } },
    });
  });

  it('refuses an Idempotency-Key sent again with another request, and sends nothing for it', async () => {
    const count = async () => (await buyer.api.call('POST', `/contracts/${name}/query/count`, {})).body.output._0;
    const key = `order-reused-${Date.now()}`;
    const headers = { headers: { 'idempotency-key': key } };
    const first = await buyer.api.call('POST', `/contracts/${name}/invoke/place`, { input: { order: order('3') } }, headers);
    expect(first.status).toBe(200);
    const before = await count();
    // Another body under the same key: refused, not answered with the first receipt.
    const otherBody = await buyer.api.call('POST', `/contracts/${name}/invoke/place`, { input: { order: order('4') } }, headers);
    expect(otherBody).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
    expect(otherBody.body.error.message).toContain('with another body');
    // Another path under the same key: refused too.
    const otherPath = await buyer.api.call(
      'POST',
      `/contracts/${name}/invoke/${encodeURIComponent('cancel(uint256)')}`,
      { input: { id: '2' } },
      headers,
    );
    expect(otherPath).toMatchObject({ status: 422, body: { error: { code: 'idempotency_key_reused' } } });
    // The same request again (its keys in another order) is still the first one.
    const { input } = { input: { order: order('3') } };
    const reordered = Object.fromEntries(Object.entries(input.order).reverse());
    const repeat = await buyer.api.call('POST', `/contracts/${name}/invoke/place`, { input: { order: reordered } }, headers);
    expect(repeat.status).toBe(200);
    expect(repeat.body.txHash).toBe(first.body.txHash);
    expect(await count()).toBe(before);
  });

  it('sends one transaction per key when each pair of identical requests with one Idempotency-Key arrives at once', async () => {
    const count = async () => Number((await buyer.api.call('POST', `/contracts/${name}/query/count`, {})).body.output._0);
    const before = await count();
    const run = Date.now().toString(36);
    const pairs = await Promise.all(
      Array.from({ length: 10 }, (_, index) => {
        const send = () =>
          buyer.api.call(
            'POST',
            `/contracts/${name}/invoke/place`,
            { input: { order: order(String(20 + index)) } },
            { headers: { 'idempotency-key': `pair-${run}-${index}` } },
          );
        return Promise.all([send(), send()]);
      }),
    );
    for (const [first, second] of pairs) {
      expect(first.status).toBe(200);
      expect(second.status).toBe(200);
      expect(second.body).toEqual(first.body);
    }
    expect(new Set(pairs.map(([first]) => first.body.txHash)).size).toBe(10);
    // On chain: ten orders placed, not twenty.
    expect(await count()).toBe(before + 10);
    // One recorded transaction per key.
    const { rows } = (await stack.core.database.db.execute(
      sql`select count(*)::int as n from chain_txs where key like ${`gateway:${name}:${buyer.id}:pair-${run}-%`}`,
    )) as unknown as { rows: { n: number }[] };
    expect(rows[0]!.n).toBe(10);
  });
});
