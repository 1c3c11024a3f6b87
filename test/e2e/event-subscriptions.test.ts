// Event subscriptions over HTTP on the real stack: creation (the webhook secret shown once), the
// validation errors, subscriptions visible to their owner only, webhook deliveries of the mirrored
// ledger events with their log, redelivery from an earlier event, and deletion.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../app/wiring/stack.js';
import { sql } from 'drizzle-orm';
import { verifyWebhook } from '../../domain/streams/webhook-signature.js';
import { apiClient } from '../support/api-client.js';
import type { ApiClient } from '../support/api-client.js';
import { startTestStack } from '../support/env.js';

let stack: Stack;
const admin = apiClient(() => stack.apiUrl);
let owner: ApiClient;
let other: ApiClient;
let receiver: Server;
let hookUrl: string;
const RUN = randomUUID().slice(0, 6);
/** What the webhook receiver got: raw body and headers. */
const received: { body: string; headers: Record<string, string | string[] | undefined>; delivery: string }[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not done within ${timeoutMs} ms`);
    await sleep(50);
  }
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        body: Buffer.concat(chunks).toString(),
        headers: req.headers,
        delivery: String(req.headers['tracewell-delivery']),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  stack = await startTestStack();
  owner = (await admin.newParticipant([], 'subs-owner')).api;
  other = (await admin.newParticipant([], 'subs-other')).api;
});

afterAll(async () => {
  // Leaves no webhook behind for other test files' dispatchers.
  const { body } = await admin.call('GET', '/events/subscriptions?all=true');
  for (const subscription of body?.subscriptions ?? []) {
    if (String(subscription.name).endsWith(RUN)) await admin.call('DELETE', `/events/subscriptions/${subscription.id}`);
  }
  await stack?.stop();
  receiver?.closeAllConnections();
  await new Promise((resolve) => receiver?.close(resolve));
});

const name = (label: string) => `${label}-${RUN}`;

/** The secret column of a subscription, as SQL has it. */
async function storedSecret(id: string): Promise<string> {
  const { rows } = (await stack.core.database.db.execute(
    sql`select secret from event_subscriptions where id = ${id}::uuid`,
  )) as unknown as {
    rows: { secret: string }[];
  };
  return rows[0]!.secret;
}

describe('event subscriptions API', () => {
  it('creates a webhook subscription, shows its secret once, and never again', async () => {
    const created = await owner.call('POST', '/events/subscriptions', {
      name: name('created'),
      kind: 'webhook',
      url: hookUrl,
      filter: { events: ['Transfer'] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: name('created'),
      kind: 'webhook',
      url: hookUrl,
      filter: { events: ['Transfer'] },
      status: 'active',
      failures: 0,
      lastError: null,
    });
    // A Standard Webhooks secret: whsec_ and the base64 of 32 random bytes.
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    // SQL holds it sealed (AES-256-GCM under a key outside the database), never in clear.
    const stored = await storedSecret(created.body.id);
    expect(stored).toMatch(/^enc:v1:/);
    expect(stored).not.toContain(created.body.secret);
    expect(stored).not.toContain(created.body.secret.slice('whsec_'.length));
    expect(created.body.cursor).toEqual(expect.any(Number));

    const read = await owner.call('GET', `/events/subscriptions/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: created.body.id, name: name('created'), cursor: created.body.cursor });
    expect(read.body).not.toHaveProperty('secret');
    const list = await owner.call('GET', '/events/subscriptions');
    expect(list.body.subscriptions.map((s: any) => s.id)).toContain(created.body.id);
    expect(list.body.subscriptions.every((s: any) => !('secret' in s))).toBe(true);

    // A secret of the caller's own choosing; a WebSocket subscription has neither URL nor secret.
    const chosen = await owner.call('POST', '/events/subscriptions', {
      name: name('chosen'),
      kind: 'webhook',
      url: hookUrl,
      secret: 'a-secret-of-my-own-choosing',
    });
    expect(chosen).toMatchObject({ status: 201, body: { secret: 'a-secret-of-my-own-choosing' } });
    expect(await storedSecret(chosen.body.id)).not.toContain('a-secret-of-my-own-choosing');
    const socket = await owner.call('POST', '/events/subscriptions', { name: name('socket'), kind: 'websocket', start: 'oldest' });
    expect(socket).toMatchObject({ status: 201, body: { kind: 'websocket', url: null, cursor: 0 } });
    expect(socket.body).not.toHaveProperty('secret');
  });

  it('refuses invalid subscriptions, naming the field', async () => {
    const refused = async (body: unknown) => (await owner.call('POST', '/events/subscriptions', body)).body?.error;
    const fields = (error: any) => error.details.map((d: any) => d.field);

    expect(fields(await refused({ name: name('no-url'), kind: 'webhook' }))).toEqual(['url']);
    expect(fields(await refused({ name: name('ftp'), kind: 'webhook', url: 'ftp://127.0.0.1/hook' }))).toEqual(['url']);
    expect(fields(await refused({ name: name('ws-url'), kind: 'websocket', url: hookUrl }))).toEqual(['url']);
    expect(fields(await refused({ name: 'no spaces please', kind: 'websocket' }))).toEqual(['name']);
    expect(fields(await refused({ name: name('short'), kind: 'webhook', url: hookUrl, secret: 'short' }))).toEqual(['secret']);
    expect(fields(await refused({ name: name('event'), kind: 'websocket', filter: { events: ['Teleported'] } }))).toEqual([
      'filter.events.0',
    ]);
    expect(fields(await refused({ name: name('kind'), kind: 'carrier-pigeon' }))).toEqual(['kind']);
    expect(await refused({ name: name('extra'), kind: 'websocket', colour: 'blue' })).toMatchObject({ code: 'invalid_request' });
    expect((await owner.call('POST', '/events/subscriptions', '{not json')).body.error.code).toBe('invalid_json');

    const unknown = await owner.call('POST', '/events/subscriptions', {
      name: name('who'),
      kind: 'websocket',
      filter: { participant: 'nobody-at-all' },
    });
    expect(unknown).toMatchObject({ status: 422, body: { error: { code: 'unknown_participant' } } });
    const future = await owner.call('POST', '/events/subscriptions', { name: name('future'), kind: 'websocket', start: 2 ** 31 - 1 });
    expect(future).toMatchObject({ status: 422, body: { error: { code: 'seq_out_of_range' } } });

    // Webhooks go to public addresses only (SSRF): each refused class has its code. The test
    // settings allow 127.0.0.1 alone (for the receivers), so the rest of 127/8 is still refused.
    const targets: [string, string][] = [
      ['http://10.1.2.3/hook', 'webhook_target_private'],
      ['http://192.168.0.10:8080/hook', 'webhook_target_private'],
      ['http://127.0.0.2/hook', 'webhook_target_loopback'],
      ['http://[::1]:8080/hook', 'webhook_target_loopback'],
      ['http://169.254.169.254/latest/meta-data', 'webhook_target_metadata'],
      ['http://169.254.10.1/hook', 'webhook_target_link_local'],
      ['http://[fe80::1]/hook', 'webhook_target_link_local'],
      ['http://[fd12::1]/hook', 'webhook_target_unique_local'],
      ['http://100.64.0.1/hook', 'webhook_target_shared'],
      ['http://0.0.0.0:9000/hook', 'webhook_target_unspecified'],
      ['http://[::ffff:10.0.0.1]/hook', 'webhook_target_private'],
    ];
    for (const [url, code] of targets) {
      const answer = await owner.call('POST', '/events/subscriptions', { name: name('ssrf'), kind: 'webhook', url });
      expect(answer, url).toMatchObject({ status: 422, body: { error: { code, details: [{ field: 'url' }] } } });
    }
    const mineNow = await owner.call('GET', '/events/subscriptions');
    expect(mineNow.body.subscriptions.map((s: any) => s.name)).not.toContain(name('ssrf'));

    const first = await owner.call('POST', '/events/subscriptions', { name: name('twice'), kind: 'websocket' });
    expect(first.status).toBe(201);
    const second = await owner.call('POST', '/events/subscriptions', { name: name('twice'), kind: 'webhook', url: hookUrl });
    expect(second).toMatchObject({ status: 409, body: { error: { code: 'subscription_exists' } } });
    // Names are per owner.
    expect((await other.call('POST', '/events/subscriptions', { name: name('twice'), kind: 'websocket' })).status).toBe(201);
  });

  it('shows a subscription to its owner and an admin only', async () => {
    const { body: mine } = await owner.call('POST', '/events/subscriptions', { name: name('private'), kind: 'webhook', url: hookUrl });
    const path = `/events/subscriptions/${mine.id}`;
    for (const [method, suffix, body] of [
      ['GET', '', undefined],
      ['GET', '/deliveries', undefined],
      ['POST', '/redeliver', {}],
      ['DELETE', '', undefined],
    ] as const) {
      expect(await other.call(method, `${path}${suffix}`, body)).toMatchObject({
        status: 404,
        body: { error: { code: 'subscription_not_found' } },
      });
    }
    expect((await other.call('GET', '/events/subscriptions')).body.subscriptions.map((s: any) => s.id)).not.toContain(mine.id);
    expect(await other.call('GET', '/events/subscriptions?all=true')).toMatchObject({ status: 403 });
    // Malformed or unknown ids are just as absent.
    for (const id of ['not-a-uuid', "1' or '1'='1", randomUUID()]) {
      expect(await owner.call('GET', `/events/subscriptions/${encodeURIComponent(id)}`)).toMatchObject({
        status: 404,
        body: { error: { code: 'subscription_not_found' } },
      });
    }

    expect((await admin.call('GET', path)).status).toBe(200);
    const all = await admin.call('GET', '/events/subscriptions?all=true');
    expect(all.body.subscriptions.find((s: any) => s.id === mine.id)).toMatchObject({ ownerId: expect.any(String) });
    expect((await owner.call('GET', path)).status).toBe(200);
  });

  it('delivers the mirrored events to a webhook, logs the deliveries, redelivers from an earlier event, and deletes', async () => {
    // From the oldest event: the stack's own start put events on the ledger (roles granted to the seeded participants).
    const created = await owner.call('POST', '/events/subscriptions', {
      name: name('hook'),
      kind: 'webhook',
      url: hookUrl,
      start: 'oldest',
    });
    expect(created.status).toBe(201);
    const { id, secret } = created.body;
    const path = `/events/subscriptions/${id}`;
    const mine = () => received.filter((r) => r.delivery.startsWith(`${id}:`));

    await until(async () => (mine().length >= 2 ? true : undefined));
    for (const request of mine()) {
      expect(verifyWebhook(secret, request.body, request.headers)).toEqual({ ok: true });
      expect(request.headers['webhook-id']).toBe(request.delivery);
    }
    const seqs = mine().map((r) => JSON.parse(r.body).event.seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

    // The log, newest first, a page at a time.
    const log = await until(async () => {
      const { body } = await owner.call('GET', `${path}/deliveries?limit=100`);
      return body.deliveries.length >= 2 ? body : undefined;
    });
    expect(log.deliveries[0]).toMatchObject({ eventSeq: expect.any(Number), attempt: 1, statusCode: 204, delivered: true, error: null });
    const ids = log.deliveries.map((d: any) => d.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const firstPage = await owner.call('GET', `${path}/deliveries?limit=1`);
    expect(firstPage.body.deliveries).toHaveLength(1);
    const nextPage = await owner.call('GET', `${path}/deliveries?limit=1&before=${firstPage.body.nextBefore}`);
    expect(nextPage.body.deliveries[0].id).toBeLessThan(firstPage.body.deliveries[0].id);
    expect(await owner.call('GET', `${path}/deliveries?limit=0`)).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_query' } },
    });

    // Redelivery from before the first event: it arrives again, with the same delivery id.
    const firstSeq = seqs[0]!;
    const before = mine().length;
    const redelivered = await owner.call('POST', `${path}/redeliver`, { from: firstSeq - 1 });
    expect(redelivered).toMatchObject({ status: 200, body: { id, cursor: firstSeq - 1, status: 'active', failures: 0 } });
    // (A request of the first round may still be in flight: look past it.)
    await until(async () =>
      mine()
        .slice(before)
        .some((r) => r.delivery === `${id}:${firstSeq}`)
        ? true
        : undefined,
    );
    expect((await owner.call('POST', `${path}/redeliver`, { from: -1 })).status).toBe(400);

    expect((await owner.call('DELETE', path)).status).toBe(204);
    expect(await owner.call('GET', path)).toMatchObject({ status: 404, body: { error: { code: 'subscription_not_found' } } });
    expect((await owner.call('DELETE', path)).status).toBe(404);
  });
});
