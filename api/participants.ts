// /participants: who takes part. An admin creates participants (each gets its own ledger key and
// document key from the key store, and a first API key) and changes their roles; the chain learns
// the change through a workflow (accepted certifiers, registrars). Participants manage their own
// API keys.
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { z } from 'zod';
import { issueApiKey, listApiKeys, revokeApiKey } from '../db/api-keys.js';
import { findParticipant, insertParticipant, listParticipants, updateParticipant } from '../db/participants.js';
import type { Participant } from '../db/participants.js';
import { didYouMean } from '../definitions/suggest.js';
import { createParticipantKeys } from '../ledger/participant-keys.js';
import { PARTICIPANT_SYNC_WORKFLOW_TYPE } from '../workflows/ledger-task-types.js';
import { PARTICIPANT_ID_PATTERN, PARTICIPANT_ROLES } from '../workflows/definition.js';
import { API_ROLES, actingParticipant, requireRole } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiError, readJson, readOptionalJson } from './errors.js';

const KNOWN_ROLES: readonly string[] = [...PARTICIPANT_ROLES, ...Object.values(API_ROLES)];

/** How long a request waits for the chain to learn a participant's roles before answering 202. */
const LEDGER_SYNC_WAIT_MS = 15_000;

const roles = z.array(z.string().min(1)).max(20).transform((list) => [...new Set(list)]);
const createBody = z
  .object({
    id: z.string().regex(PARTICIPANT_ID_PATTERN, 'lowercase letters, digits and dashes, starting with a letter or digit'),
    name: z.string().trim().min(1).max(200),
    roles: roles.default([]),
  })
  .strict();
const updateBody = z.object({ name: z.string().trim().min(1).max(200).optional(), roles: roles.optional() }).strict();
const apiKeyBody = z.object({ label: z.string().trim().min(1).max(100).optional() }).strict();

export function participantView(participant: Participant) {
  const { id, name, roles, address, documentPublicKey, createdAt } = participant;
  return { id, name, roles, address, documentPublicKey, createdAt: createdAt.toISOString() };
}

function checkRoles(list: string[]): void {
  const unknown = list.filter((role) => !KNOWN_ROLES.includes(role));
  if (unknown.length === 0) return;
  const details = unknown.map((role) => ({ field: 'roles', message: `unknown role "${role}"${didYouMean(role, KNOWN_ROLES)}` }));
  throw new ApiError(422, 'invalid_roles', `${details.map((d) => d.message).join('; ')}; roles: ${KNOWN_ROLES.join(', ')}`, details);
}

export function participantRoutes(deps: ApiDeps): Hono {
  const { db, temporal, taskQueue, policies, keys } = deps;
  const app = new Hono();

  async function requireParticipant(id: string): Promise<Participant> {
    const participant = await findParticipant(db, id);
    if (!participant) throw new ApiError(404, 'participant_not_found', `no participant "${id}"`);
    return participant;
  }

  /** A participant manages its own keys; an admin manages everyone's. */
  function requireSelfOrAdmin(c: Context, id: string): void {
    if (actingParticipant(c).id !== id) requireRole(c, API_ROLES.admin);
  }

  /** Runs the workflow that makes the chain match the participant's roles; null if it takes too long. */
  async function syncLedger(participantId: string) {
    const requestId = randomUUID();
    const handle = await temporal.workflow.start(PARTICIPANT_SYNC_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: `participant-sync:${participantId}:${requestId}`,
      args: [{ participantId, requestId, policy: policies.chain }],
    });
    const timeout = new Promise<null>((resolve) => setTimeout(() => resolve(null), LEDGER_SYNC_WAIT_MS).unref());
    const standing = await Promise.race([handle.result() as Promise<{ registrar: boolean; certifier: boolean }>, timeout]);
    return standing ? { status: 'synced', registrar: standing.registrar, certifier: standing.certifier } : { status: 'pending', workflowId: handle.workflowId };
  }

  app.get('/', async (c) => c.json({ participants: (await listParticipants(db)).map(participantView) }));

  app.get('/me', (c) => c.json(participantView(actingParticipant(c))));

  app.get('/:id', async (c) => c.json(participantView(await requireParticipant(c.req.param('id')))));

  app.post('/', async (c) => {
    requireRole(c, API_ROLES.admin);
    const body = await readJson(c, createBody);
    checkRoles(body.roles);
    if (await findParticipant(db, body.id)) throw new ApiError(409, 'participant_exists', `participant "${body.id}" exists already`);
    const participantKeys = await createParticipantKeys(keys, body.id);
    if (!(await insertParticipant(db, { ...body, ...participantKeys }))) {
      throw new ApiError(409, 'participant_exists', `participant "${body.id}" exists already`);
    }
    const apiKey = await issueApiKey(db, body.id, { label: 'first key' });
    const ledger = await syncLedger(body.id);
    const participant = (await findParticipant(db, body.id))!;
    return c.json({ participant: participantView(participant), apiKey, ledger }, ledger.status === 'synced' ? 201 : 202);
  });

  app.patch('/:id', async (c) => {
    requireRole(c, API_ROLES.admin);
    const id = c.req.param('id');
    await requireParticipant(id);
    const body = await readJson(c, updateBody);
    if (body.roles) checkRoles(body.roles);
    const participant = (await updateParticipant(db, id, body))!;
    const ledger = await syncLedger(id);
    return c.json({ participant: participantView(participant), ledger }, ledger.status === 'synced' ? 200 : 202);
  });

  app.get('/:id/api-keys', async (c) => {
    const id = c.req.param('id');
    requireSelfOrAdmin(c, id);
    await requireParticipant(id);
    return c.json({ apiKeys: await listApiKeys(db, id) });
  });

  app.post('/:id/api-keys', async (c) => {
    const id = c.req.param('id');
    requireSelfOrAdmin(c, id);
    await requireParticipant(id);
    const body = await readOptionalJson(c, apiKeyBody);
    return c.json({ apiKey: await issueApiKey(db, id, { label: body.label }) }, 201);
  });

  app.delete('/:id/api-keys/:keyId', async (c) => {
    const id = c.req.param('id');
    requireSelfOrAdmin(c, id);
    const keyId = Number(c.req.param('keyId'));
    if (!Number.isSafeInteger(keyId) || !(await revokeApiKey(db, id, keyId))) {
      throw new ApiError(404, 'api_key_not_found', `participant "${id}" has no active API key ${c.req.param('keyId')}`);
    }
    return c.body(null, 204);
  });

  return app;
}
