// /contracts: the REST gateway to registered contracts. Admins register a contract (name, address,
// ABI; the PartRegistry is registered at start-up); any participant then invokes its functions
// (transactions it signs), queries them (eth_call), reads its events, and gets its OpenAPI document.
import { z } from '@hono/zod-openapi';
import type { Abi } from 'viem';
import { contractOpenApi, methodKeys } from '../domain/gateway/contract-openapi.js';
import {
  CONTRACT_NAME_PATTERN,
  contractEvents,
  getContract,
  invokeContract,
  listContracts,
  queryContract,
  registerContract,
} from '../domain/gateway/gateway.js';
import { actingParticipant, API_ROLES, roleRequired } from './auth.js';
import type { ApiDeps } from './deps.js';
import { apiRouter, errors, jsonBody, jsonResponse, route } from './openapi.js';
import { blockNumberQuery, toBlockQuery } from './input-limits.js';
import { idempotent, IdempotencyKeyHeader } from './idempotency.js';

const abiItem = z
  .object({ type: z.enum(['function', 'event', 'error', 'constructor', 'fallback', 'receive']) })
  .passthrough()
  .openapi({ description: 'A Solidity ABI item, as the compiler emits it' });

const registerBody = z
  .object({
    name: z
      .string()
      .regex(CONTRACT_NAME_PATTERN, 'a letter, then letters, digits, _ or - (at most 64)')
      .openapi({ description: 'The name it is served under', example: 'PartRegistry' }),
    address: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed 20-byte address')
      .openapi({ example: '0x5FbDB2315678afecb367f032d93F642f64180aa3' }),
    abi: z.array(abiItem).min(1),
  })
  .strict()
  .openapi('RegisterContract');

const callBody = z
  .object({
    input: z
      .record(z.unknown())
      .default({})
      .openapi({ description: "The function's arguments by name (`arg0`, `arg1`, … for unnamed ones), as JSON" }),
    value: z
      .string()
      .regex(/^[0-9]{1,78}$/, 'wei as a decimal string')
      .optional()
      .openapi({ description: 'Wei sent with a payable call', example: '0' }),
  })
  .strict()
  .openapi('ContractCall');

const eventsQuery = z
  .object({
    event: z.string().min(1).optional().openapi({ description: 'Only events of this name' }),
    fromBlock: blockNumberQuery().optional().openapi({ description: 'The first block (default: 0)' }),
    toBlock: toBlockQuery().optional().openapi({ description: 'The last block, or `latest` (the default)' }),
  })
  .strict();

const view = (row: { name: string; address: string; chainId: number; abi: unknown[]; createdAt: Date }) => ({
  name: row.name,
  address: row.address,
  chainId: row.chainId,
  methods: [...methodKeys(row.abi as Abi).keys()],
  openapi: `/contracts/${row.name}/openapi.json`,
  createdAt: row.createdAt,
});

const ContractSchema = z
  .object({
    name: z.string(),
    address: z.string().openapi({ description: 'Checksummed' }),
    chainId: z.number().int(),
    methods: z.array(z.string()).openapi({ description: 'The path segment of each function: its name, or its signature when overloaded' }),
    openapi: z.string().openapi({ description: "Where the contract's own OpenAPI document is" }),
    createdAt: z.string(),
  })
  .openapi('Contract');

const ContractEventSchema = z
  .object({
    name: z.string(),
    args: z.record(z.unknown()).openapi({ description: 'The decoded arguments, by name' }),
    blockNumber: z.string().optional().openapi({ description: 'decimal' }),
    logIndex: z.number().int(),
    txHash: z.string(),
  })
  .openapi('ContractEvent');

const ContractQueryResultSchema = z
  .object({ output: z.record(z.unknown()).openapi({ description: 'The decoded return values, by name (`arg0`, … for unnamed ones)' }) })
  .openapi('ContractQueryResult');

const ContractReceiptSchema = z
  .object({
    txHash: z.string().nullable(),
    blockNumber: z.string().nullable().openapi({ description: 'decimal' }),
    status: z.string().openapi({ example: 'success' }),
    events: z.array(ContractEventSchema).openapi({ description: 'The events the transaction emitted, decoded' }),
  })
  .openapi('ContractReceipt');

const ContractEventsSchema = z
  .object({
    events: z.array(ContractEventSchema).openapi({ description: 'Oldest first' }),
    truncated: z.boolean().optional().openapi({ description: 'More events than one answer holds: narrow fromBlock and toBlock' }),
  })
  .openapi('ContractEvents');

const nameParams = z.object({ name: z.string().openapi({ description: "The contract's registered name", example: 'PartRegistry' }) });
const methodParams = nameParams.extend({
  method: z.string().openapi({ description: "A function's name, or its signature when overloaded", example: 'ownerOf' }),
});

const tags = ['Contracts'];
const perContract = 'Its arguments and result depend on the function: `/contracts/{name}/openapi.json` documents each exactly.';

const routes = {
  register: route({
    middleware: [roleRequired(API_ROLES.admin)],
    method: 'post',
    path: '/',
    tags,
    summary: 'Register a contract by name, address and ABI, or replace its registration (role admin)',
    description: 'Needs the role `admin`. Every function, event and error must have arguments that map to JSON.',
    request: { body: jsonBody(registerBody) },
    responses: {
      201: jsonResponse(ContractSchema, 'Registered'),
      200: jsonResponse(ContractSchema, 'Re-registered: the name existed'),
      ...errors(
        [400, 'Invalid input, or a malformed ABI or one whose arguments do not map to JSON (`invalid_abi`, naming each bad path)'],
        401,
        403,
      ),
    },
  }),
  list: route({
    method: 'get',
    path: '/',
    tags,
    summary: 'The contracts registered on this chain',
    responses: {
      200: jsonResponse(z.object({ contracts: z.array(ContractSchema) }).openapi('ContractList'), 'The contracts'),
      ...errors(401),
    },
  }),
  openapi: route({
    method: 'get',
    path: '/{name}/openapi.json',
    tags,
    summary: "A contract's OpenAPI 3.1 document, generated from its ABI",
    description:
      'A path per function to query and (unless view or pure) invoke, with exact argument and result schemas, its events and its custom errors.',
    request: { params: nameParams },
    // z.any, not z.unknown: zod-openapi types a top-level `Record<string, unknown>` response as never.
    responses: {
      200: jsonResponse(z.record(z.any()).openapi({ description: 'An OpenAPI 3.1 document' }), 'The document'),
      ...errors(401, [404, 'No such contract']),
    },
  }),
  query: route({
    method: 'post',
    path: '/{name}/query/{method}',
    tags,
    summary: 'Call a function without a transaction (eth_call), as the calling participant',
    description: perContract,
    request: { params: methodParams, body: jsonBody(callBody) },
    responses: {
      200: jsonResponse(ContractQueryResultSchema, 'The decoded result'),
      ...errors(
        [400, 'Invalid input, or an argument that does not fit its ABI type (`invalid_argument`, naming it)'],
        401,
        [404, 'No such contract or function'],
        [409, 'The call reverted (`contract_reverted`, its custom error decoded in `details`)'],
        [422, 'The call returned no data (`no_result`): no contract at the address?'],
      ),
    },
  }),
  invoke: route({
    method: 'post',
    path: '/{name}/invoke/{method}',
    tags,
    summary: 'Send a transaction to a function, signed by the calling participant; answers once it is mined',
    description: `${perContract} With an Idempotency-Key, a repeat (even one sent at the same moment) answers with the first one's receipt and sends nothing.`,
    request: { params: methodParams, headers: IdempotencyKeyHeader, body: jsonBody(callBody) },
    responses: {
      200: jsonResponse(ContractReceiptSchema, 'The mined transaction with its decoded events'),
      ...errors(
        [
          400,
          'Invalid input, an argument that does not fit its ABI type (`invalid_argument`), a value for a function that is not payable, or a view function (`read_only_method`)',
        ],
        401,
        [404, 'No such contract or function'],
        [
          409,
          'The transaction would revert (`contract_reverted`, its custom error decoded in `details`), or a request with this Idempotency-Key is still running (`idempotency_key_in_use`, with Retry-After)',
        ],
        [
          422,
          'The calling participant cannot pay for gas (`insufficient_funds`), or the Idempotency-Key was used for another request (`idempotency_key_reused`)',
        ],
      ),
    },
  }),
  events: route({
    method: 'get',
    path: '/{name}/events',
    tags,
    summary: "A contract's events, decoded, oldest first (at most 10,000 per answer)",
    request: { params: nameParams, query: eventsQuery },
    responses: {
      200: jsonResponse(ContractEventsSchema, 'The events'),
      ...errors([400, 'A bad filter, or an event the contract does not emit'], 401, [404, 'No such contract']),
    },
  }),
};

export function contractRoutes(deps: ApiDeps) {
  const { db, chain } = deps;
  const app = apiRouter();

  app.openapi(routes.register, async (c) => {
    const admin = actingParticipant(c);
    const body = c.req.valid('json');
    const { contract, created } = await registerContract(db, chain.chainId, { ...body, abi: body.abi as unknown as Abi }, admin.id);
    return created ? c.json(view(contract), 201) : c.json(view(contract), 200);
  });

  app.openapi(routes.list, async (c) => c.json({ contracts: (await listContracts(db, chain.chainId)).map(view) }, 200));

  app.openapi(routes.openapi, async (c) => {
    const contract = await getContract(db, chain.chainId, c.req.valid('param').name);
    return c.json(contractOpenApi({ name: contract.name, abi: contract.abi as Abi, address: contract.address }), 200);
  });

  app.openapi(routes.query, async (c) => {
    const { name, method } = c.req.valid('param');
    const contract = await getContract(db, chain.chainId, name);
    const body = c.req.valid('json');
    return c.json(await queryContract(deps, contract, method, body.input, actingParticipant(c)), 200);
  });

  app.openapi(routes.invoke, async (c) => {
    const { name, method } = c.req.valid('param');
    const contract = await getContract(db, chain.chainId, name);
    const body = c.req.valid('json');
    return idempotent(c, db, async (key) => c.json(await invokeContract(deps, contract, method, body, actingParticipant(c), key), 200));
  });

  app.openapi(routes.events, async (c) => {
    const contract = await getContract(db, chain.chainId, c.req.valid('param').name);
    return c.json(await contractEvents(deps, contract, c.req.valid('query')), 200);
  });

  return app;
}
