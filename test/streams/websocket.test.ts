// The event streams as a client sees them, over a real HTTP server: the WebSocket endpoint (durable
// and ephemeral subscriptions, acknowledgements, flow control, take-over) and the read-only SSE
// stream and event pages. Events are appended to a ledger of this file's own, as the mirror would.
import { randomBytes, randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import { authenticate } from '../../api/auth.js';
import { eventStreamRoutes } from '../../api/event-stream.js';
import { errorResponse } from '../../api/error-response.js';
import { Errors } from '../../domain/errors/catalogue.js';
import { CodedError } from '../../domain/errors/coded-error.js';
import { listen } from '../../api/server.js';
import type { RunningApi } from '../../api/server.js';
import { issueApiKey, revokeApiKey } from '../../db/api-keys.js';
import { openDatabase } from '../../db/client.js';
import type { Database } from '../../db/client.js';
import { createSubscription, getSubscription } from '../../db/event-subscriptions.js';
import type { EventFilter, SubscriptionKind } from '../../db/schema.js';
import { insertParticipant } from '../../db/participants.js';
import { appendEvent, lastHash, lockLedger } from '../../domain/mirror/event-log.js';
import type { LedgerRef } from '../../domain/mirror/event-log.js';
import { latestSeq } from '../../domain/streams/events.js';
import type { StreamEvent } from '../../domain/streams/events.js';
import { KeyRevocations } from '../../domain/streams/key-revocations.js';
import { MirrorSignal } from '../../domain/streams/mirror-signal.js';
import { attachEventSocket } from '../../domain/streams/websocket.js';

let database: Database;
let api: RunningApi;
let wsUrl: string;
const ledger: LedgerRef = { chainId: 7002, address: privateKeyToAddress(generatePrivateKey()) };
const mirrorSignal = new MirrorSignal();
/** Shared by the SSE routes and the WebSocket, as one API process shares it. */
const keyRevocations = new KeyRevocations();
const alice = { id: `urn:test:ws-alice:${randomUUID().slice(0, 8)}`, key: '' };
const bob = { id: `urn:test:ws-bob:${randomUUID().slice(0, 8)}`, key: '' };
let block = 1;

beforeAll(async () => {
  database = await openDatabase({ url: inject('databaseUrl') || undefined });
  await database.migrate();
  const db = database.db;
  for (const who of [alice, bob]) {
    await insertParticipant(db, {
      id: who.id,
      name: who.id,
      roles: [],
      address: privateKeyToAddress(generatePrivateKey()),
      keyRef: 'test:none',
      documentKeyRef: null,
      documentPublicKey: null,
    });
    who.key = (await issueApiKey(db, who.id)).key;
  }
  // The SSE routes get a signal nobody announces on: they must find new events by polling, as
  // they do when the listener runs in another process.
  const app = new Hono();
  app.use('*', authenticate(db));
  app.route(
    '/events',
    eventStreamRoutes({ db, ledger, mirrorSignal: new MirrorSignal(), keyRevocations }, { pollMs: 50, heartbeatMs: 300 }),
  );
  app.onError((error, c) =>
    error instanceof CodedError ? errorResponse(c, error) : errorResponse(c, new CodedError(Errors.internal_error, {}, error.message)),
  );
  api = await listen(app, '127.0.0.1', 0, {
    onServer: (server) => attachEventSocket(server, { db, ledger, mirrorSignal, keyRevocations }, { pollMs: 50, heartbeatMs: 200 }),
  });
  wsUrl = `${api.url.replace('http', 'ws')}/events/ws`;
});

afterAll(async () => {
  await api?.close();
  await database?.close();
});

const hex = (bytes: number) => `0x${randomBytes(bytes).toString('hex')}`;

interface Synthetic {
  name?: string;
  parts?: string[];
  participants?: string[];
}

/** Appends events to the test ledger as the listener would; returns their sequence numbers. */
async function append(events: Synthetic[], announce = true): Promise<number[]> {
  const seqs: number[] = [];
  await database.db.transaction(async (tx) => {
    await lockLedger(tx, ledger);
    let prev = await lastHash(tx, ledger);
    for (const event of events) {
      const row = await appendEvent(tx, prev, {
        chainId: ledger.chainId,
        address: ledger.address,
        blockNumber: block++,
        blockHash: hex(32),
        logIndex: 0,
        txHash: hex(32),
        topics: [hex(32)],
        data: '0x',
        name: event.name ?? 'PartEventRecorded',
        partIds: event.parts ?? [],
        participantIds: event.participants ?? [],
        args: { n: seqs.length },
        at: new Date(),
      });
      prev = row!.hash;
      seqs.push(row!.id);
    }
  });
  if (announce) mirrorSignal.notify();
  return seqs;
}

async function subscription(owner: { id: string }, filter: EventFilter, kind: SubscriptionKind = 'websocket'): Promise<string> {
  const id = randomUUID();
  await createSubscription(database.db, {
    id,
    ownerId: owner.id,
    name: `test-${id}`,
    kind,
    filter,
    cursor: await latestSeq(database.db, ledger),
    ...(kind === 'webhook' ? { url: 'http://127.0.0.1:9/hook', secret: 'secret' } : {}),
  });
  return id;
}

const part = () => `urn:test:part:${randomUUID().slice(0, 12)}`;

/** A test client: frames queue up and are taken in order. */
class Client {
  private frames: any[] = [];
  private waiting: (() => void) | undefined;
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()));
      this.waiting?.();
    });
    this.closed = new Promise((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  static open(key: string, options: { autoPong?: boolean } = {}): Promise<Client> {
    const socket = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${key}` }, ...options });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new Client(socket)));
      socket.once('error', reject);
    });
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  async next(timeoutMs = 3_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    while (this.frames.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no frame arrived in time');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiting = undefined;
    }
    return this.frames.shift();
  }

  /** The next `count` frames, which must be events; returns their sequence numbers. */
  async events(count: number): Promise<number[]> {
    const seqs: number[] = [];
    for (let i = 0; i < count; i++) {
      const frame = await this.next();
      expect(frame).toMatchObject({ type: 'event' });
      expect(frame.event.seq).toBe(frame.seq);
      seqs.push(frame.seq);
    }
    return seqs;
  }

  /** Nothing more arrives for `ms`. */
  async quiet(ms = 250): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    expect(this.frames).toEqual([]);
  }

  async subscribe(request: Record<string, unknown>): Promise<any> {
    this.send({ type: 'subscribe', ...request });
    const frame = await this.next();
    expect(frame).toMatchObject({ type: 'subscribed' });
    return frame;
  }
}

async function storedCursor(id: string): Promise<number> {
  return (await getSubscription(database.db, id))!.cursor;
}

describe('WebSocket event stream', () => {
  it('delivers a durable subscription in order and resumes exactly after the last acknowledgement', async () => {
    const mine = part();
    const id = await subscription(alice, { parts: [mine] });
    const seqs = await append([
      { parts: [mine] },
      { parts: [part()] },
      { parts: [mine] },
      { parts: [mine] },
      { parts: [part()] },
      { parts: [mine] },
    ]);
    const matching = [seqs[0]!, seqs[2]!, seqs[3]!, seqs[5]!];

    const first = await Client.open(alice.key);
    const subscribed = await first.subscribe({ subscription: id });
    // Sequence numbers are shared by every contract's events: the cursor is the one stored at creation.
    expect(subscribed).toEqual({ type: 'subscribed', subscription: id, cursor: await storedCursor(id) });
    expect(subscribed.cursor).toBeLessThan(seqs[0]!);
    expect(await first.events(4)).toEqual(matching);

    // Acknowledge the second; it is stored as the cursor. Then the connection drops mid-stream.
    first.send({ type: 'ack', seq: matching[1] });
    await vi.waitFor(async () => expect(await storedCursor(id)).toBe(matching[1]));
    first.socket.terminate();
    await first.closed;

    const later = await append([{ parts: [mine] }, { parts: [part()] }, { parts: [mine] }]);

    const second = await Client.open(alice.key);
    expect(await second.subscribe({ subscription: id })).toMatchObject({ cursor: matching[1] });
    // The unacknowledged two again, then what came while disconnected: no gap, nothing acked twice.
    expect(await second.events(4)).toEqual([matching[2], matching[3], later[0], later[2]]);
    await second.quiet();

    const live = await append([{ parts: [mine] }]);
    expect(await second.events(1)).toEqual(live);
    second.send({ type: 'ack', seq: live[0] });
    await vi.waitFor(async () => expect(await storedCursor(id)).toBe(live[0]));
    second.socket.close();
  });

  it('keeps at most `window` events unacknowledged', async () => {
    const mine = part();
    const start = await latestSeq(database.db, ledger);
    const seqs = await append(Array.from({ length: 5 }, () => ({ parts: [mine] })));
    const client = await Client.open(alice.key);
    expect(await client.subscribe({ filter: { parts: [mine] }, start, window: 2 })).toEqual({
      type: 'subscribed',
      subscription: null,
      cursor: start,
    });

    expect(await client.events(2)).toEqual(seqs.slice(0, 2));
    await client.quiet();
    client.send({ type: 'ack', seq: seqs[0] });
    expect(await client.events(1)).toEqual([seqs[2]]);
    await client.quiet();
    // Cumulative: acknowledging the third frees both slots.
    client.send({ type: 'ack', seq: seqs[2] });
    expect(await client.events(2)).toEqual(seqs.slice(3));
    await client.quiet();
    client.socket.close();
  });

  it('filters an ephemeral stream by event, part and participant, from a given start', async () => {
    const [p1, p2] = [part(), part()];
    const start = await latestSeq(database.db, ledger);
    const seqs = await append([
      { name: 'Transfer', parts: [p1], participants: [alice.id, bob.id] },
      { name: 'PartEventRecorded', parts: [p1], participants: [alice.id] },
      { name: 'Transfer', parts: [p2], participants: [bob.id] },
      { name: 'Transfer', parts: [p1, p2], participants: [] },
      { name: 'CertificateAttached', parts: [p2], participants: [bob.id] },
    ]);

    const byEventAndPart = await Client.open(alice.key);
    await byEventAndPart.subscribe({ filter: { events: ['Transfer'], parts: [p1] }, start });
    const frames = [await byEventAndPart.next(), await byEventAndPart.next()];
    expect(frames.map((f) => f.seq)).toEqual([seqs[0], seqs[3]]);
    expect(frames[1].event).toMatchObject({ name: 'Transfer', parts: [p1, p2], chainId: ledger.chainId, contract: ledger.address });
    await byEventAndPart.quiet();

    // Starting after the first event skips it; the participant filter matches any of the named.
    const byParticipant = await Client.open(alice.key);
    await byParticipant.subscribe({ filter: { participant: bob.id, parts: [p1, p2] }, start: seqs[0] });
    expect(await byParticipant.events(2)).toEqual([seqs[2], seqs[4]]);
    await byParticipant.quiet();

    // 'oldest' starts before this ledger's first event; 'newest' after its latest.
    const newest = await Client.open(alice.key);
    expect(await newest.subscribe({ filter: { parts: [p1] }, start: 'newest' })).toMatchObject({ cursor: seqs[4] });
    const fresh = await append([{ parts: [p1] }]);
    expect(await newest.events(1)).toEqual(fresh);
    const oldest = await Client.open(alice.key);
    expect(await oldest.subscribe({ filter: { parts: [p1] }, start: 'oldest' })).toMatchObject({ cursor: 0 });
    expect(await oldest.events(4)).toEqual([seqs[0], seqs[1], seqs[3], fresh[0]]);

    for (const client of [byEventAndPart, byParticipant, newest, oldest]) client.socket.close();
  });

  it('finds new events by polling when no signal announces them', async () => {
    const mine = part();
    const client = await Client.open(alice.key);
    await client.subscribe({ filter: { parts: [mine] } });
    const seqs = await append([{ parts: [mine] }], false);
    expect(await client.events(1)).toEqual(seqs);
    client.socket.close();
  });

  it('hands a durable subscription to the newest connection: the older one is closed with 4409', async () => {
    const mine = part();
    const id = await subscription(alice, { parts: [mine] });
    const seqs = await append([{ parts: [mine] }, { parts: [mine] }]);
    const first = await Client.open(alice.key);
    await first.subscribe({ subscription: id });
    expect(await first.events(2)).toEqual(seqs);
    first.send({ type: 'ack', seq: seqs[0] });
    await vi.waitFor(async () => expect(await storedCursor(id)).toBe(seqs[0]));

    const second = await Client.open(alice.key);
    expect(await second.subscribe({ subscription: id })).toMatchObject({ cursor: seqs[0] });
    expect(await first.closed).toEqual({ code: 4409, reason: 'taken over' });
    expect(await second.events(1)).toEqual([seqs[1]]);
    second.socket.close();
  });

  it('refuses upgrades without a valid key (401) and on other paths (404)', async () => {
    const status = (url: string, headers: Record<string, string> = {}) =>
      new Promise<number>((resolve, reject) => {
        const socket = new WebSocket(url, { headers });
        socket.once('unexpected-response', (_request, response) => {
          resolve(response.statusCode ?? 0);
          socket.terminate();
        });
        socket.once('open', () => reject(new Error('the upgrade was accepted')));
        socket.once('error', () => {});
      });
    expect(await status(wsUrl)).toBe(401);
    expect(await status(wsUrl, { authorization: 'Bearer tw_not-a-key' })).toBe(401);
    expect(await status(wsUrl, { authorization: 'Basic abc' })).toBe(401);
    expect(await status(wsUrl.replace('/events/ws', '/elsewhere'), { authorization: `Bearer ${alice.key}` })).toBe(404);

    // Browsers cannot send headers: the key may come as ?access_token=, or as X-Api-Key.
    for (const open of [
      () => new WebSocket(`${wsUrl}?access_token=${encodeURIComponent(alice.key)}`),
      () => new WebSocket(wsUrl, { headers: { 'x-api-key': alice.key } }),
    ]) {
      const socket = open();
      await new Promise((resolve, reject) => {
        socket.once('open', resolve);
        socket.once('error', reject);
      });
      socket.close();
    }
  });

  it("answers subscription_not_found for someone else's or a webhook subscription", async () => {
    const alices = await subscription(alice, {});
    const hook = await subscription(bob, {}, 'webhook');
    const client = await Client.open(bob.key);
    for (const id of [alices, hook, randomUUID()]) {
      client.send({ type: 'subscribe', subscription: id });
      expect(await client.next()).toMatchObject({ type: 'error', code: 'subscription_not_found' });
    }
    // The connection stays usable.
    await client.subscribe({ filter: {} });
    client.socket.close();
  });

  it('answers bad messages with errors and keeps the connection', async () => {
    const mine = part();
    const client = await Client.open(alice.key);
    const bad = [
      'not json',
      '[1]',
      { type: 'hello' },
      { type: 'subscribe', window: 0 },
      { type: 'subscribe', filter: { events: ['Nope'] } },
      { type: 'subscribe', subscription: randomUUID(), start: 'oldest' },
    ];
    for (const message of bad) {
      client.send(message);
      expect(await client.next()).toMatchObject({ type: 'error', code: 'bad_message', message: expect.any(String) });
    }
    client.send({ type: 'ack', seq: 1 });
    expect(await client.next()).toMatchObject({ type: 'error', code: 'not_subscribed' });

    const start = await latestSeq(database.db, ledger);
    await client.subscribe({ filter: { parts: [mine] }, start });
    client.send({ type: 'subscribe', filter: {} });
    expect(await client.next()).toMatchObject({ type: 'error', code: 'already_subscribed' });
    client.send({ type: 'ack', seq: start + 1 });
    expect(await client.next()).toMatchObject({ type: 'error', code: 'ack_out_of_range' });
    client.send({ type: 'ack', seq: -1 });
    expect(await client.next()).toMatchObject({ type: 'error', code: 'bad_message' });

    const seqs = await append([{ parts: [mine] }]);
    expect(await client.events(1)).toEqual(seqs);
    client.socket.close();
  });

  it('drops a peer that stops answering pings', async () => {
    const client = await Client.open(alice.key, { autoPong: false });
    await client.subscribe({ filter: {} });
    // The server pings every 200 ms here; no pong by the next one and it terminates the connection.
    expect((await client.closed).code).toBe(1006);
  });
});

/** Reads Server-Sent Events from a response body. */
async function* sse(body: ReadableStream<Uint8Array>): AsyncGenerator<{ id?: string; event?: string; data?: string; comment?: string }> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message: Record<string, string> = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) message.comment = line.slice(1).trim();
        else {
          const colon = line.indexOf(':');
          message[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
        }
      }
      yield message;
    }
  }
}

async function stream(query: string, headers: Record<string, string> = {}, key = alice.key) {
  const controller = new AbortController();
  const response = await fetch(`${api.url}/events/stream?${query}`, {
    headers: { authorization: `Bearer ${key}`, ...headers },
    signal: controller.signal,
  });
  const messages = response.ok ? sse(response.body!) : undefined;
  /** The next `count` events (comments skipped). */
  const events = async (count: number) => {
    const seen: { id?: string; event?: string; data?: string }[] = [];
    while (seen.length < count) {
      const { value, done } = await messages!.next();
      if (done) throw new Error('the stream ended');
      if (value.data !== undefined) seen.push(value);
    }
    return seen;
  };
  return { response, messages, events, close: () => controller.abort() };
}

describe('Server-Sent Events and event pages', () => {
  it('streams events with their sequence numbers as ids, and resumes after Last-Event-ID', async () => {
    const mine = part();
    const start = await latestSeq(database.db, ledger);
    const seqs = await append(
      [{ name: 'Transfer', parts: [mine] }, { parts: [part()] }, { name: 'Transfer', parts: [mine] }, { name: 'Transfer', parts: [mine] }],
      false,
    );

    const first = await stream(`events=Transfer&parts=${mine}&after=${start}`);
    expect(first.response.status).toBe(200);
    expect(first.response.headers.get('content-type')).toContain('text/event-stream');
    const received = await first.events(3);
    expect(received.map((m) => m.id)).toEqual([seqs[0], seqs[2], seqs[3]].map(String));
    expect(received.every((m) => m.event === 'Transfer')).toBe(true);
    const event = JSON.parse(received[1]!.data!) as StreamEvent;
    expect(event).toMatchObject({ seq: seqs[2], name: 'Transfer', parts: [mine], contract: ledger.address });
    // Idle streams carry heartbeat comments.
    for (;;) {
      const { value } = await first.messages!.next();
      if (value?.comment === 'heartbeat') break;
    }
    first.close();

    // Reconnecting after the first one: exactly the later ones, then new events as they come.
    const resumed = await stream(`events=Transfer&parts=${mine}`, { 'last-event-id': String(seqs[0]) });
    expect((await resumed.events(2)).map((m) => Number(m.id))).toEqual([seqs[2], seqs[3]]);
    const later = await append([{ name: 'Transfer', parts: [mine] }], false);
    expect((await resumed.events(1)).map((m) => Number(m.id))).toEqual(later);
    resumed.close();
  });

  it("streams a subscription from its cursor without moving it, and only the caller's", async () => {
    const mine = part();
    const id = await subscription(alice, { parts: [mine] }, 'webhook');
    const cursor = await storedCursor(id);
    const seqs = await append([{ parts: [mine] }, { parts: [mine] }], false);
    const reader = await stream(`subscription=${id}`);
    expect((await reader.events(2)).map((m) => Number(m.id))).toEqual(seqs);
    reader.close();
    expect(await storedCursor(id)).toBe(cursor);

    const bobs = await fetch(`${api.url}/events/stream?subscription=${id}`, { headers: { authorization: `Bearer ${bob.key}` } });
    expect(bobs.status).toBe(404);
    expect(await bobs.json()).toMatchObject({ error: { code: 'subscription_not_found' } });
  });

  it('refuses bad parameters with 400 before streaming', async () => {
    for (const [query, headers] of [
      ['events=Nope', {}],
      ['after=soon', {}],
      ['subscription=not-a-uuid', {}],
      [`subscription=${randomUUID()}&parts=x`, {}],
      ['', { 'last-event-id': 'abc' }],
    ] as const) {
      const { response } = await stream(query, headers);
      expect(response.status, query).toBe(400);
      expect(response.headers.get('content-type')).toContain('application/json');
    }
    const anonymous = await fetch(`${api.url}/events/stream`);
    expect(anonymous.status).toBe(401);
  });

  it('pages events with a filter', async () => {
    const mine = part();
    const start = await latestSeq(database.db, ledger);
    const seqs = await append([{ parts: [mine] }, { parts: [part()] }, { parts: [mine] }, { parts: [mine] }], false);
    const page = async (query: string) => {
      const response = await fetch(`${api.url}/events?${query}`, { headers: { 'x-api-key': alice.key } });
      return { status: response.status, body: (await response.json()) as any };
    };
    const one = await page(`parts=${mine}&after=${start}&limit=2`);
    expect(one.status).toBe(200);
    expect(one.body.events.map((e: StreamEvent) => e.seq)).toEqual([seqs[0], seqs[2]]);
    expect(one.body.next).toBe(seqs[2]);
    const two = await page(`parts=${mine}&after=${one.body.next}&limit=2`);
    expect(two.body).toMatchObject({ events: [{ seq: seqs[3], parts: [mine] }], next: null });
    expect((await page('limit=0')).status).toBe(400);
    expect((await page('limit=501')).status).toBe(400);
    expect((await page('after=-1')).status).toBe(400);
  });
});

describe('Revoking an API key', () => {
  /** A fresh key of alice's, with a WebSocket and an SSE stream open on it, both past their first event. */
  async function openStreams() {
    const issued = await issueApiKey(database.db, alice.id, { label: 'revoked in a test' });
    const mine = part();
    const socket = await Client.open(issued.key);
    await socket.subscribe({ filter: { parts: [mine] } });
    const reader = await stream(`parts=${mine}`, {}, issued.key);
    expect(reader.response.status).toBe(200);
    const [first] = await append([{ parts: [mine] }]);
    expect(await socket.events(1)).toEqual([first]);
    expect((await reader.events(1)).map((m) => Number(m.id))).toEqual([first]);
    return { issued, mine, socket, reader };
  }

  /** What the SSE stream sends until it ends (comments skipped); fails if it does not end in time. */
  async function restOf(reader: Awaited<ReturnType<typeof stream>>) {
    const rest: { event?: string; data?: string; id?: string }[] = [];
    const ended = (async () => {
      for (;;) {
        const { value, done } = await reader.messages!.next();
        if (done) return;
        if (value.data !== undefined) rest.push(value);
      }
    })();
    await Promise.race([ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the SSE stream did not end')), 3_000))]);
    return rest;
  }

  it('closes its WebSocket (1008) and ends its SSE stream at once in the revoking process', async () => {
    const { issued, mine, socket, reader } = await openStreams();
    const revokedAt = Date.now();
    // What DELETE /participants/{id}/api-keys/{keyId} does: revoke in SQL, then tell this process's streams.
    expect(await revokeApiKey(database.db, alice.id, issued.id)).toBe(true);
    keyRevocations.revoked(issued.id);

    expect(await socket.next()).toEqual({ type: 'error', code: 'unauthenticated', message: 'the API key of this connection was revoked' });
    expect(await socket.closed).toEqual({ code: 1008, reason: 'API key revoked' });
    const rest = await restOf(reader);
    expect(Date.now() - revokedAt).toBeLessThan(1_000);
    expect(rest).toEqual([{ event: 'error', data: expect.stringContaining('"code":"unauthenticated"') }]);

    // Events after the revocation reach neither; nothing is left watching the key; the key is refused.
    await append([{ parts: [mine] }, { parts: [mine] }]);
    await socket.quiet();
    expect(keyRevocations.size).toBe(0);
    await expect(Client.open(issued.key)).rejects.toThrow(/401/);
  });

  it('closes them before the next event when another process revoked the key', async () => {
    const { issued, mine, socket, reader } = await openStreams();
    // Revoked in SQL only, as another API process would: this process's registry hears nothing.
    expect(await revokeApiKey(database.db, alice.id, issued.id)).toBe(true);
    const after = await append([{ parts: [mine] }, { parts: [mine] }]);

    // Each stream asks SQL before sending: an error instead of the events, and the end.
    expect(await socket.next()).toMatchObject({ type: 'error', code: 'unauthenticated' });
    expect((await socket.closed).code).toBe(1008);
    const rest = await restOf(reader);
    expect(rest).toEqual([{ event: 'error', data: expect.stringContaining('"code":"unauthenticated"') }]);
    expect(rest.some((m) => after.includes(Number(m.id)))).toBe(false);
    expect(keyRevocations.size).toBe(0);
  });
});
