// /participants: who takes part. An admin creates participants (each gets its own ledger key and
// document key from the key store, and a first API key) and changes their roles; the chain learns
// the change through a workflow (accepted certifiers, registrars). Participants manage their own
// API keys.
import { randomUUID } from 'node:crypto';
import { z } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { issueApiKey, listApiKeys, revokeApiKey } from '../db/api-keys.js';
import { findParticipant, insertParticipant, listParticipants, updateParticipant } from '../db/participants.js';
import type { Participant } from '../db/participants.js';
import { didYouMean } from '../workflows/suggest.js';
import { createParticipantKeys } from '../domain/participants/participant-keys.js';
import { PARTICIPANT_SYNC_WORKFLOW_TYPE } from '../workflows/ledger-task-types.js';
import { PARTICIPANT_ID_PATTERN, PARTICIPANT_ID_RULE, PARTICIPANT_ROLES } from '../workflows/definition.js';
import { API_ROLES, actingParticipant, requireRole, roleRequired } from './auth.js';
import type { ApiDeps } from './deps.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { apiRouter, errors, jsonBody, jsonResponse, route } from './openapi.js';

const KNOWN_ROLES: readonly string[] = [...PARTICIPANT_ROLES, ...Object.values(API_ROLES)];

/** How long a request waits for the chain to learn a participant's roles before answering 202. */
const LEDGER_SYNC_WAIT_MS = 15_000;

const roles = z
  .array(z.string().min(1))
  .max(20)
  .transform((list) => [...new Set(list)])
  .openapi({ description: `Supply-chain and API roles: ${KNOWN_ROLES.join(', ')}`, example: ['manufacturer'] });
const name = z.string().trim().min(1).max(200).openapi({ description: 'Display name', example: 'Acme Foundry' });
const createBody = z
  .object({
    id: z
      .string()
      .regex(PARTICIPANT_ID_PATTERN, `expected ${PARTICIPANT_ID_RULE}`)
      .openapi({ description: `The participant's id: ${PARTICIPANT_ID_RULE}`, example: 'acme-foundry' }),
    name,
    roles: roles.default([]),
  })
  .strict()
  .openapi('NewParticipant');
// At least one field: an empty change has nothing to set (and would be a no-op write to the chain).
const updateBody = z
  .object({ name: name.optional(), roles: roles.optional() })
  .strict()
  .refine((body) => body.name !== undefined || body.roles !== undefined, 'give at least one of name, roles')
  .openapi('ParticipantChange');
const apiKeyBody = z
  .object({ label: z.string().trim().min(1).max(100).optional().openapi({ description: 'To tell keys apart', example: 'ci pipeline' }) })
  .strict()
  .openapi('NewApiKey');

const idParams = z.object({ id: z.string().openapi({ description: "The participant's id", example: 'acme-foundry' }) });
// keyId stays a string: a key id that is not a number is a key the participant does not have (404).
const keyParams = idParams.extend({ keyId: z.string().openapi({ description: "The API key's id (an integer)", example: '7' }) });

const ParticipantSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    roles: z.array(z.string()),
    address: z.string().openapi({ description: "Its ledger account's address", example: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8' }),
    documentPublicKey: z.string().nullable().openapi({ description: 'The public key documents are sealed to' }),
    createdAt: z.string(),
  })
  .openapi('Participant');

const ParticipantListSchema = z.object({ participants: z.array(ParticipantSchema) }).openapi('ParticipantList');

const IssuedApiKeySchema = z
  .object({
    id: z.number().int(),
    key: z.string().openapi({ description: 'The key itself: shown this once, never again', example: 'tw_…' }),
    prefix: z.string().openapi({ description: 'The first characters of the key, to tell keys apart' }),
    label: z.string().nullable(),
    createdAt: z.string(),
  })
  .openapi('IssuedApiKey');

const ApiKeySchema = z
  .object({
    id: z.number().int(),
    participantId: z.string(),
    prefix: z.string(),
    label: z.string().nullable(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('ApiKey');

const LedgerSyncSchema = z
  .union([
    z.object({ status: z.literal('synced'), registrar: z.boolean(), certifier: z.boolean() }),
    z.object({
      status: z.literal('pending'),
      workflowId: z.string().openapi({ description: 'The workflow still making the chain match' }),
    }),
  ])
  .openapi('LedgerSync', { description: "Whether the chain knows the participant's roles yet (registrar, accepted certifier)" });

const CreatedParticipantSchema = z
  .object({ participant: ParticipantSchema, apiKey: IssuedApiKeySchema, ledger: LedgerSyncSchema })
  .openapi('CreatedParticipant');
const UpdatedParticipantSchema = z.object({ participant: ParticipantSchema, ledger: LedgerSyncSchema }).openapi('UpdatedParticipant');

const tags = ['Participants'];

/** Route middleware: a participant manages its own keys, an admin everyone's (403 before validation). */
const selfOrAdmin: MiddlewareHandler = async (c, next) => {
  if (actingParticipant(c).id !== c.req.param('id')) requireRole(c, API_ROLES.admin);
  await next();
};

const routes = {
  list: route({
    method: 'get',
    path: '/',
    tags,
    summary: 'All participants, with their ledger addresses',
    responses: { 200: jsonResponse(ParticipantListSchema, 'The participants, by id'), ...errors(401) },
  }),
  me: route({
    method: 'get',
    path: '/me',
    tags,
    summary: "The participant the request's API key acts as",
    responses: { 200: jsonResponse(ParticipantSchema, 'The acting participant'), ...errors(401) },
  }),
  get: route({
    method: 'get',
    path: '/{id}',
    tags,
    summary: 'A participant',
    request: { params: idParams },
    responses: { 200: jsonResponse(ParticipantSchema, 'The participant'), ...errors(401, 404) },
  }),
  create: route({
    middleware: [roleRequired(API_ROLES.admin)],
    method: 'post',
    path: '/',
    tags,
    summary: 'Create a participant with its ledger and document keys and a first API key (admin only)',
    description:
      'Admin only. The answer shows the first API key once. The chain learns the roles through a workflow: 201 once it has, 202 if that takes longer than a few seconds (`ledger.workflowId` names the workflow).',
    request: { body: jsonBody(createBody) },
    responses: {
      201: jsonResponse(CreatedParticipantSchema, 'Created; the chain knows its roles'),
      202: jsonResponse(CreatedParticipantSchema, 'Created; the chain is still learning its roles'),
      ...errors(400, 401, 403, [409, 'A participant with this id (or address) exists'], [422, 'Unknown roles']),
    },
  }),
  update: route({
    middleware: [roleRequired(API_ROLES.admin)],
    method: 'patch',
    path: '/{id}',
    tags,
    summary: "Change a participant's name or roles (admin only)",
    description: 'Admin only. 200 once the chain knows the roles, 202 if that takes longer than a few seconds.',
    request: { params: idParams, body: jsonBody(updateBody) },
    responses: {
      200: jsonResponse(UpdatedParticipantSchema, 'Changed; the chain knows its roles'),
      202: jsonResponse(UpdatedParticipantSchema, 'Changed; the chain is still learning its roles'),
      ...errors(400, 401, 403, 404, [422, 'Unknown roles']),
    },
  }),
  listKeys: route({
    middleware: [selfOrAdmin],
    method: 'get',
    path: '/{id}/api-keys',
    tags,
    summary: "A participant's API keys, revoked ones included (the participant itself or an admin)",
    request: { params: idParams },
    responses: {
      200: jsonResponse(z.object({ apiKeys: z.array(ApiKeySchema) }).openapi('ApiKeyList'), 'The keys (never the keys themselves)'),
      ...errors(401, 403, 404),
    },
  }),
  issueKey: route({
    middleware: [selfOrAdmin],
    method: 'post',
    path: '/{id}/api-keys',
    tags,
    summary: 'Issue an API key (the participant itself or an admin); the key is shown once',
    request: { params: idParams, body: jsonBody(apiKeyBody, { required: false }) },
    responses: {
      201: jsonResponse(z.object({ apiKey: IssuedApiKeySchema }).openapi('ApiKeyIssued'), 'Issued'),
      ...errors(400, 401, 403, 404),
    },
  }),
  revokeKey: route({
    middleware: [selfOrAdmin],
    method: 'delete',
    path: '/{id}/api-keys/{keyId}',
    tags,
    summary: 'Revoke an API key (the participant itself or an admin)',
    request: { params: keyParams },
    responses: { 204: { description: 'Revoked' }, ...errors(401, 403, [404, 'No such participant, or no active key with this id']) },
  }),
};

export function participantView(participant: Participant) {
  const { id, name, roles, address, documentPublicKey, createdAt } = participant;
  return { id, name, roles, address, documentPublicKey, createdAt: createdAt.toISOString() };
}

function checkRoles(list: string[]): void {
  const unknown = list.filter((role) => !KNOWN_ROLES.includes(role));
  if (unknown.length === 0) return;
  const details = unknown.map((role) => ({ field: 'roles', message: `unknown role "${role}"${didYouMean(role, KNOWN_ROLES)}` }));
  throw new CodedError(
    Errors.invalid_roles,
    { problems: details.map((d) => d.message).join('; '), roles: KNOWN_ROLES.join(', ') },
    details,
  );
}

export function participantRoutes(deps: ApiDeps) {
  const { db, temporal, taskQueue, policies, keys } = deps;
  const app = apiRouter();

  async function requireParticipant(id: string): Promise<Participant> {
    const participant = await findParticipant(db, id);
    if (!participant) throw new CodedError(Errors.participant_not_found, { id });
    return participant;
  }

  /** Runs the workflow that makes the chain match the participant's roles; pending if it takes too long. */
  async function syncLedger(participantId: string) {
    const requestId = randomUUID();
    const handle = await temporal.workflow.start(PARTICIPANT_SYNC_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: `participant-sync:${participantId}:${requestId}`,
      args: [{ participantId, requestId, policy: policies.chain }],
    });
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), LEDGER_SYNC_WAIT_MS).unref());
    const standing = await Promise.race([handle.result() as Promise<{ registrar: boolean; certifier: boolean }>, timeout]);
    return standing
      ? { status: 'synced' as const, registrar: standing.registrar, certifier: standing.certifier }
      : { status: 'pending' as const, workflowId: handle.workflowId };
  }

  app.openapi(routes.list, async (c) => c.json({ participants: (await listParticipants(db)).map(participantView) }, 200));

  app.openapi(routes.me, (c) => c.json(participantView(actingParticipant(c)), 200));

  app.openapi(routes.get, async (c) => c.json(participantView(await requireParticipant(c.req.valid('param').id)), 200));

  app.openapi(routes.create, async (c) => {
    const body = c.req.valid('json');
    checkRoles(body.roles);
    if (await findParticipant(db, body.id)) throw new CodedError(Errors.participant_exists, { id: body.id });
    const participantKeys = await createParticipantKeys(keys, body.id);
    if (!(await insertParticipant(db, { ...body, ...participantKeys }))) {
      throw new CodedError(Errors.participant_exists, { id: body.id });
    }
    const apiKey = await issueApiKey(db, body.id, { label: 'first key' });
    const ledger = await syncLedger(body.id);
    const participant = (await findParticipant(db, body.id))!;
    return c.json({ participant: participantView(participant), apiKey, ledger }, ledger.status === 'synced' ? 201 : 202);
  });

  app.openapi(routes.update, async (c) => {
    const { id } = c.req.valid('param');
    await requireParticipant(id);
    const body = c.req.valid('json');
    if (body.roles) checkRoles(body.roles);
    const participant = (await updateParticipant(db, id, body))!;
    const ledger = await syncLedger(id);
    return c.json({ participant: participantView(participant), ledger }, ledger.status === 'synced' ? 200 : 202);
  });

  app.openapi(routes.listKeys, async (c) => {
    const { id } = c.req.valid('param');
    await requireParticipant(id);
    return c.json({ apiKeys: await listApiKeys(db, id) }, 200);
  });

  app.openapi(routes.issueKey, async (c) => {
    const { id } = c.req.valid('param');
    await requireParticipant(id);
    const { label } = c.req.valid('json');
    return c.json({ apiKey: await issueApiKey(db, id, { label }) }, 201);
  });

  app.openapi(routes.revokeKey, async (c) => {
    const { id, keyId } = c.req.valid('param');
    const number = Number(keyId);
    if (!Number.isSafeInteger(number) || !(await revokeApiKey(db, id, number))) {
      throw new CodedError(Errors.api_key_not_found, { id, keyId });
    }
    // Its open streams in this process close now; other processes find out before their next event.
    deps.keyRevocations.revoked(number);
    return c.body(null, 204);
  });

  return app;
}
