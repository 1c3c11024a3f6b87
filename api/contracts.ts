// /contracts: the REST gateway to registered contracts. Admins register a contract (name, address,
// ABI; the PartRegistry is registered at start-up); any participant then invokes its functions
// (transactions it signs), queries them (eth_call), reads its events, and gets its OpenAPI document.
import { Hono } from 'hono';
import type { Abi } from 'viem';
import { z } from 'zod';
import { contractOpenApi } from '../gateway/contract-openapi.js';
import { CONTRACT_NAME_PATTERN, contractEvents, getContract, invokeContract, listContracts, queryContract, registerContract } from '../gateway/contracts.js';
import { methodKeys } from '../gateway/contract-openapi.js';
import { actingParticipant, API_ROLES, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { readJson, readQuery } from './errors.js';
import { idempotencyKeyOf } from './operator.js';

const abiItem = z.object({ type: z.enum(['function', 'event', 'error', 'constructor', 'fallback', 'receive']) }).passthrough();

const registerBody = z
  .object({
    name: z.string().regex(CONTRACT_NAME_PATTERN, 'a letter, then letters, digits, _ or - (at most 64)'),
    address: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'a 0x-prefixed 20-byte address'),
    abi: z.array(abiItem).min(1),
  })
  .strict();

const callBody = z.object({ input: z.record(z.unknown()).default({}), value: z.string().regex(/^[0-9]{1,78}$/, 'wei as a decimal string').optional() }).strict();

const eventsQuery = z
  .object({
    event: z.string().min(1).optional(),
    fromBlock: z.string().regex(/^[0-9]+$/, 'a block number').transform(BigInt).optional(),
    toBlock: z.union([z.literal('latest'), z.string().regex(/^[0-9]+$/, 'a block number').transform(BigInt)]).optional(),
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

export function contractRoutes(deps: ApiDeps): Hono {
  const { db, chain } = deps;
  const app = new Hono();

  app.post('/', async (c) => {
    const admin = requireRole(c, API_ROLES.admin);
    const body = await readJson(c, registerBody);
    const { contract, created } = await registerContract(db, chain.chainId, { ...body, abi: body.abi as unknown as Abi }, admin.id);
    return c.json(view(contract), created ? 201 : 200);
  });

  app.get('/', async (c) => c.json({ contracts: (await listContracts(db, chain.chainId)).map(view) }));

  app.get('/:name/openapi.json', async (c) => {
    const contract = await getContract(db, chain.chainId, c.req.param('name'));
    return c.json(contractOpenApi({ name: contract.name, abi: contract.abi as Abi, address: contract.address }));
  });

  app.post('/:name/query/:method', async (c) => {
    const contract = await getContract(db, chain.chainId, c.req.param('name'));
    const body = await readJson(c, callBody);
    return c.json(await queryContract(deps, contract, c.req.param('method'), body.input, actingParticipant(c)));
  });

  app.post('/:name/invoke/:method', async (c) => {
    const contract = await getContract(db, chain.chainId, c.req.param('name'));
    const body = await readJson(c, callBody);
    return c.json(await invokeContract(deps, contract, c.req.param('method'), body, actingParticipant(c), idempotencyKeyOf(c)));
  });

  app.get('/:name/events', async (c) => {
    const contract = await getContract(db, chain.chainId, c.req.param('name'));
    return c.json(await contractEvents(deps, contract, readQuery(c, eventsQuery)));
  });

  return app;
}
