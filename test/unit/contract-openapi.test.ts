// The contract gateway's ABI mapping: JSON Schemas of ABI types (integers as decimal strings, bytes as
// hex, tuples as objects, arrays of tuples), JSON arguments converted for viem with errors naming the
// field, overloads on distinct paths, and generated documents that an independent OpenAPI 3.1
// validator accepts.
import { Validator } from '@seriousme/openapi-schema-validator';
import { decodeFunctionData, decodeFunctionResult, encodeFunctionData, encodeFunctionResult } from 'viem';
import type { Abi } from 'viem';
import { describe, expect, it } from 'vitest';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import { AbiValueError, fromAbiValue, schemaOf, toAbiArgs } from '../../domain/gateway/abi-json.js';
import { contractOpenApi, methodKeys, signatureOf } from '../../domain/gateway/contract-openapi.js';

const item = [
  { name: 'sku', type: 'string' },
  { name: 'qty', type: 'uint256' },
] as const;

/** A contract with what ABI conversions usually get wrong: overloads, tuples, arrays of tuples, custom errors. */
const ordersAbi = [
  {
    type: 'function',
    name: 'place',
    stateMutability: 'nonpayable',
    inputs: [
      {
        name: 'order',
        type: 'tuple',
        internalType: 'struct Orders.Order',
        components: [
          { name: 'buyer', type: 'address' },
          { name: 'items', type: 'tuple[]', components: item },
          { name: 'ref', type: 'bytes32' },
        ],
      },
    ],
    outputs: [{ name: 'id', type: 'uint256' }],
  },
  { type: 'function', name: 'cancel', stateMutability: 'nonpayable', inputs: [{ name: 'id', type: 'uint256' }], outputs: [] },
  {
    type: 'function',
    name: 'cancel',
    stateMutability: 'nonpayable',
    inputs: [
      { name: 'id', type: 'uint256' },
      { name: 'reason', type: 'string' },
    ],
    outputs: [],
  },
  {
    type: 'function',
    name: 'get',
    stateMutability: 'view',
    inputs: [{ name: 'id', type: 'uint256' }],
    outputs: [
      {
        name: '',
        type: 'tuple',
        components: [
          { name: 'total', type: 'int128' },
          { name: 'lines', type: 'uint8[2]' },
        ],
      },
    ],
  },
  {
    type: 'event',
    name: 'Placed',
    inputs: [
      { name: 'id', type: 'uint256', indexed: true },
      { name: 'items', type: 'tuple[]', indexed: false, components: item },
    ],
  },
  {
    type: 'error',
    name: 'OutOfStock',
    inputs: [
      { name: 'sku', type: 'string' },
      { name: 'available', type: 'uint256' },
    ],
  },
] as const satisfies Abi;

const order = {
  buyer: '0x1c8ea173abf56890644d1be62b12d59754af7c48',
  items: [
    { sku: 'chip-7nm', qty: '100000000000000000001' },
    { sku: 'wafer', qty: 3 },
  ],
  ref: `0x${'ab'.repeat(32)}`,
};

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof AbiValueError) return error.message;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('ABI types as JSON', () => {
  it('describes each type as JSON Schema', () => {
    expect(schemaOf({ name: 'x', type: 'uint256' })).toMatchObject({ type: 'string', pattern: '^[0-9]{1,78}$' });
    expect(schemaOf({ name: 'x', type: 'int8' })).toMatchObject({ type: 'string', pattern: '^-?[0-9]{1,78}$' });
    expect(schemaOf({ name: 'x', type: 'bytes32' })).toMatchObject({ type: 'string', pattern: '^0x[0-9a-fA-F]{64}$' });
    expect(schemaOf({ name: 'x', type: 'uint8[2]' })).toMatchObject({ type: 'array', minItems: 2, maxItems: 2, items: { type: 'string' } });
    expect(schemaOf(ordersAbi[0].inputs[0])).toEqual({
      type: 'object',
      description: 'struct Orders.Order',
      additionalProperties: false,
      required: ['buyer', 'items', 'ref'],
      properties: {
        buyer: { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' },
        items: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['sku', 'qty'],
            properties: { sku: { type: 'string' }, qty: expect.objectContaining({ type: 'string' }) },
          },
        },
        ref: { type: 'string', pattern: '^0x[0-9a-fA-F]{64}$' },
      },
    });
  });

  it('converts JSON arguments (tuples, arrays of tuples) for viem, and results back', () => {
    const args = toAbiArgs(ordersAbi[0].inputs, { order });
    const data = encodeFunctionData({ abi: ordersAbi, functionName: 'place', args: args as never });
    const decoded = decodeFunctionData({ abi: ordersAbi, data });
    expect(fromAbiValue(ordersAbi[0].inputs[0], decoded.args[0])).toEqual({
      buyer: '0x1C8EA173Abf56890644D1be62b12d59754af7C48',
      items: [
        { sku: 'chip-7nm', qty: '100000000000000000001' },
        { sku: 'wafer', qty: '3' },
      ],
      ref: order.ref,
    });
    const result = encodeFunctionResult({ abi: ordersAbi, functionName: 'get', result: { total: -5n, lines: [1, 2] } });
    const output = decodeFunctionResult({ abi: ordersAbi, functionName: 'get', data: result });
    expect(fromAbiValue(ordersAbi[3].outputs[0], output)).toEqual({ total: '-5', lines: [1, 2] });
  });

  it('names the field of a value that does not fit', () => {
    expect(refusal(() => toAbiArgs(ordersAbi[0].inputs, { order: { ...order, items: [{ sku: 'x', qty: 'ten' }] } }))).toBe(
      'args.order.items[0].qty: expected a decimal string (uint256), got "ten"',
    );
    expect(refusal(() => toAbiArgs(ordersAbi[0].inputs, { order: { ...order, ref: '0x12' } }))).toBe(
      'args.order.ref: expected 0x and 64 hex digits (bytes32)',
    );
    expect(refusal(() => toAbiArgs(ordersAbi[0].inputs, { order: { ...order, buyer: 'acme' } }))).toBe(
      'args.order.buyer: expected a 0x-prefixed 20-byte address',
    );
    expect(refusal(() => toAbiArgs(ordersAbi[0].inputs, { order: { buyer: order.buyer, items: [] } }))).toBe('args.order.ref: required');
    expect(refusal(() => toAbiArgs(ordersAbi[0].inputs, { order, extra: 1 }))).toBe('args: unknown argument(s) extra; expected order');
    expect(refusal(() => toAbiArgs([{ name: 'n', type: 'uint8' }], { n: '256' }))).toBe('args.n: out of range for uint8');
    expect(refusal(() => toAbiArgs([{ name: 'n', type: 'int8' }], { n: '-129' }))).toBe('args.n: out of range for int8');
    expect(refusal(() => toAbiArgs([{ name: 'v', type: 'uint8[2]' }], { v: ['1'] }))).toBe('args.v: expected 2 items, got 1');
  });
});

describe('contract OpenAPI documents', () => {
  it('gives overloaded functions distinct paths named by their signature', () => {
    expect([...methodKeys(ordersAbi).keys()]).toEqual(['place', 'cancel(uint256)', 'cancel(uint256,string)', 'get']);
    expect(signatureOf(ordersAbi[0])).toBe('place((address,(string,uint256)[],bytes32))');
    const document = contractOpenApi({ name: 'orders', abi: ordersAbi }) as {
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    expect(Object.keys(document.paths)).toEqual([
      '/contracts/orders/query/place',
      '/contracts/orders/invoke/place',
      '/contracts/orders/query/cancel(uint256)',
      '/contracts/orders/invoke/cancel(uint256)',
      '/contracts/orders/query/cancel(uint256,string)',
      '/contracts/orders/invoke/cancel(uint256,string)',
      '/contracts/orders/query/get',
      '/contracts/orders/events',
    ]);
    expect(Object.keys(document.components.schemas)).toEqual(
      expect.arrayContaining(['Event.Placed_uint256__string_uint256____', 'Error.OutOfStock_string_uint256_']),
    );
  });

  it('generates documents an independent OpenAPI 3.1 validator accepts', async () => {
    for (const contract of [
      { name: 'orders', abi: ordersAbi as Abi },
      { name: 'PartRegistry', abi: partRegistryAbi as Abi, address: '0x5FbDB2315678afecb367f032d93F642f64180aa3' },
    ]) {
      const validator = new Validator();
      const result = await validator.validate(contractOpenApi(contract));
      expect(result.errors ?? [], contract.name).toEqual([]);
      expect(result.valid).toBe(true);
      expect(validator.version).toBe('3.1');
    }
  });
});
