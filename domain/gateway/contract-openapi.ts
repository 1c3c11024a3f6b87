// The OpenAPI 3.1 document of one contract, generated from its ABI: a path per function to invoke
// (a transaction) and to query (eth_call), overloaded functions on distinct paths named by their
// signature, the events as schemas and a filterable events path, and the custom errors a revert
// answers with.
import { toEventSignature, toFunctionSignature } from 'viem';
import type { Abi, AbiEvent, AbiFunction } from 'viem';
import type { AbiError } from '../chain/tx-sender.js';
import { argsSchemaOf } from './abi-json.js';
import type { JsonSchema } from './abi-json.js';

/** `name(type,…)` with tuples spelled out, as Solidity signatures are (viem's; errors format as functions do). */
export function signatureOf(item: AbiFunction | AbiEvent | AbiError): string {
  return item.type === 'event' ? toEventSignature(item) : toFunctionSignature(item as unknown as AbiFunction);
}

/** The path segment of each function: its name, or its signature when the name is overloaded. */
export function methodKeys(abi: Abi): Map<string, AbiFunction> {
  const functions = abi.filter((item): item is AbiFunction => item.type === 'function');
  const counts = new Map<string, number>();
  for (const fn of functions) counts.set(fn.name, (counts.get(fn.name) ?? 0) + 1);
  return new Map(functions.map((fn) => [counts.get(fn.name)! > 1 ? signatureOf(fn) : fn.name, fn]));
}

const errorResponse = (description: string, schema: JsonSchema = { $ref: '#/components/schemas/Error' }) => ({
  description,
  content: { 'application/json': { schema } },
});

/** A revert without a custom error of the ABI (a `require` message, a panic): its name if any, no arguments. */
const UNDECLARED_REVERT: JsonSchema = {
  type: 'object',
  description: 'A revert the ABI declares no error for; the message says what the node reported',
  required: ['name', 'args'],
  properties: { name: { type: ['string', 'null'] }, args: { type: 'object', maxProperties: 0 } },
  not: { required: ['signature'] },
};

export function contractOpenApi(contract: { name: string; abi: Abi; address?: string }): Record<string, unknown> {
  const events = contract.abi.filter((item): item is AbiEvent => item.type === 'event');
  const errors = contract.abi.filter((item): item is AbiError => item.type === 'error');
  const base = `/contracts/${contract.name}`;
  const paths: Record<string, unknown> = {};
  for (const [key, fn] of methodKeys(contract.abi)) {
    paths[`${base}/query/${key}`] = { post: queryOperation(contract.name, key, fn) };
    if (!isReadOnly(fn)) paths[`${base}/invoke/${key}`] = { post: invokeOperation(contract.name, key, fn) };
  }
  paths[`${base}/events`] = { get: eventsOperation(contract.name, events) };
  return {
    openapi: '3.1.0',
    info: {
      title: `${contract.name} contract`,
      version: '1',
      description: `REST gateway to ${contract.name}${contract.address ? ` at ${contract.address}` : ''}, generated from its ABI.`,
    },
    paths,
    components: {
      schemas: { ...envelopeSchemas(errors), ...eventSchemas(events), ...errorSchemas(errors) },
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'a Tracewell API key' } },
    },
    security: [{ apiKey: [] }],
  };
}

const isReadOnly = (fn: AbiFunction) => fn.stateMutability === 'view' || fn.stateMutability === 'pure';

/** A path key or contract name as an operationId may spell it. */
const identifier = (text: string) => text.replace(/[^A-Za-z0-9_]/g, '_');

/** The schemas every answer refers to: the error envelope, a revert with its decoded custom error, a receipt, an event. */
function envelopeSchemas(errors: AbiError[]): Record<string, JsonSchema> {
  return {
    Error: {
      type: 'object',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
        },
      },
    },
    Revert: {
      type: 'object',
      description: 'A transaction or call the contract reverted, with its custom error decoded',
      required: ['error'],
      properties: {
        error: {
          type: 'object',
          required: ['code', 'message'],
          properties: {
            code: { const: 'contract_reverted' },
            message: { type: 'string' },
            // Exactly one: a custom error (by its signature), or a revert the ABI does not declare.
            details: {
              oneOf: [...errors.map((error) => ({ $ref: `#/components/schemas/${schemaName('Error', error)}` })), UNDECLARED_REVERT],
            },
          },
        },
      },
    },
    Receipt: {
      type: 'object',
      required: ['txHash', 'blockNumber', 'status', 'events'],
      properties: {
        txHash: { type: 'string', pattern: '^0x[0-9a-f]{64}$' },
        blockNumber: { type: 'string', pattern: '^[0-9]+$' },
        status: { enum: ['success', 'reverted'] },
        events: { type: 'array', items: { $ref: '#/components/schemas/DecodedEvent' } },
      },
    },
    DecodedEvent: {
      type: 'object',
      required: ['name', 'args'],
      properties: {
        name: { type: 'string' },
        args: { type: 'object' },
        blockNumber: { type: 'string' },
        logIndex: { type: 'integer' },
        txHash: { type: 'string' },
      },
    },
  };
}

/** One schema per event: its arguments, described by its signature. */
function eventSchemas(events: AbiEvent[]): Record<string, JsonSchema> {
  return Object.fromEntries(
    events.map((event) => [schemaName('Event', event), { ...argsSchemaOf(event.inputs), description: signatureOf(event) }]),
  );
}

/** One schema per custom error, as a revert's `details` carries it. */
function errorSchemas(errors: AbiError[]): Record<string, JsonSchema> {
  return Object.fromEntries(
    errors.map((error) => [
      schemaName('Error', error),
      {
        type: 'object',
        description: signatureOf(error),
        required: ['name', 'signature', 'args'],
        properties: { name: { const: error.name }, signature: { const: signatureOf(error) }, args: argsSchemaOf(error.inputs) },
      },
    ]),
  );
}

/** A function's body: its arguments as `input`, which may be left out (it defaults to {}) when it takes none. */
function functionRequestBody(fn: AbiFunction, extra: Record<string, JsonSchema> = {}) {
  const inputRequired = fn.inputs.length > 0 ? { required: ['input'] } : {};
  const schema = {
    type: 'object',
    properties: { input: argsSchemaOf(fn.inputs), ...extra },
    ...inputRequired,
    additionalProperties: false,
  };
  return { required: fn.inputs.length > 0, content: { 'application/json': { schema } } };
}

/** POST …/query/{key}: the function run with eth_call, any function, a view or not. */
function queryOperation(contractName: string, key: string, fn: AbiFunction) {
  const output = argsSchemaOf(fn.outputs);
  return {
    operationId: `query_${identifier(key)}`,
    summary: `${signatureOf(fn)}: eth_call`,
    tags: [contractName],
    requestBody: functionRequestBody(fn),
    responses: {
      '200': {
        description: 'the decoded result',
        content: { 'application/json': { schema: { type: 'object', properties: { output }, required: ['output'] } } },
      },
      '400': errorResponse('an argument does not fit its ABI type (named in the message)'),
      '409': errorResponse('the call reverted', { $ref: '#/components/schemas/Revert' }),
      '422': errorResponse('no contract answers at the address on this chain (no_result)'),
    },
  };
}

const WEI_VALUE: JsonSchema = { type: 'string', pattern: '^[0-9]{1,78}$', description: 'wei sent with the call' };

/** POST …/invoke/{key}: a transaction signed by the caller, for functions that are neither view nor pure. */
function invokeOperation(contractName: string, key: string, fn: AbiFunction) {
  return {
    operationId: `invoke_${identifier(key)}`,
    summary: `${signatureOf(fn)}: a transaction signed by the calling participant`,
    tags: [contractName],
    parameters: [
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', maxLength: 200 },
        description: 'a repeat with the same key answers with the first result and sends nothing',
      },
    ],
    requestBody: functionRequestBody(fn, fn.stateMutability === 'payable' ? { value: WEI_VALUE } : {}),
    responses: {
      '200': {
        description: 'the mined transaction with its decoded events',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Receipt' } } },
      },
      '400': errorResponse('an argument does not fit its ABI type (named in the message)'),
      '409': errorResponse('the transaction would revert', { $ref: '#/components/schemas/Revert' }),
      '422': errorResponse('the caller cannot pay for gas (insufficient_funds), or no contract answers at the address (no_result)'),
    },
  };
}

/** GET …/events: the contract's decoded logs, filtered by event name and block range. */
function eventsOperation(contractName: string, events: AbiEvent[]) {
  const answer = {
    type: 'object',
    properties: {
      events: { type: 'array', items: { $ref: '#/components/schemas/DecodedEvent' } },
      truncated: { type: 'boolean', description: 'more events than one answer holds: narrow fromBlock and toBlock' },
    },
  };
  return {
    operationId: `events_${identifier(contractName)}`,
    summary: 'decoded logs of the contract',
    tags: [contractName],
    parameters: [
      { name: 'event', in: 'query', required: false, schema: { enum: events.map((event) => event.name) } },
      { name: 'fromBlock', in: 'query', required: false, schema: { type: 'string', pattern: '^[0-9]{1,16}$' } },
      { name: 'toBlock', in: 'query', required: false, schema: { type: 'string', pattern: '^([0-9]{1,16}|latest)$' } },
    ],
    responses: {
      '200': { description: 'the events, oldest first', content: { 'application/json': { schema: answer } } },
      '400': errorResponse('a bad filter'),
    },
  };
}

/** A component name for an event or error; overloads get their parameter types appended. */
function schemaName(kind: 'Event' | 'Error', item: AbiEvent | AbiError): string {
  return `${kind}.${signatureOf(item).replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}
