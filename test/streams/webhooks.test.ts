// Webhook delivery against real HTTP receivers on 127.0.0.1 and the test database: every event
// arrives once successfully, in order and signed, through failures and retries; filters hold;
// subscriptions die after their failures and come back when redelivered; a notify wakes the loop;
// two dispatchers together still deliver each event once; refused addresses are not connected to
// (also when a name resolves elsewhere at delivery); secrets are stored sealed; the log is pruned.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { asc, eq, inArray } from 'drizzle-orm';
import { generatePrivateKey, privateKeyToAddress } from 'viem/accounts';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../../db/client.js';
import type { Database, Db } from '../../db/client.js';
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  reactivateSubscription,
  sealPlainSecrets,
} from '../../db/event-subscriptions.js';
import type { SubscriptionRow } from '../../db/event-subscriptions.js';
import { insertParticipant } from '../../db/participants.js';
import { webhookDeliveries } from '../../db/schema.js';
import type { EventFilter } from '../../db/schema.js';
import { appendEvent, lastHash, lockLedger } from '../../domain/mirror/event-log.js';
import type { LedgerRef } from '../../domain/mirror/event-log.js';
import { latestSeq } from '../../domain/streams/events.js';
import { MirrorSignal } from '../../domain/streams/mirror-signal.js';
import { SecretBox } from '../../domain/streams/secret-box.js';
import { WebhookDispatcher, retryDelay, signWebhook, verifyWebhook } from '../../domain/streams/webhooks.js';
import type { WebhookDispatcherOptions, WebhookPayload } from '../../domain/streams/webhooks.js';
import { WebhookTargetPolicy } from '../../domain/streams/webhook-targets.js';
import { until } from '../support/until.js';

const SECRET = 'test-webhook-secret-0123456789';
/** The key webhook secrets are sealed with in this file (a setting in a real process). */
const secrets = new SecretBox(randomBytes(32));
/** The receivers listen on 127.0.0.1: allowed here, as an operator's WEBHOOK_ALLOWED_NETWORKS would. */
const loopbackAllowed = new WebhookTargetPolicy(['127.0.0.1']);
const ledger: LedgerRef = { chainId: 7001, address: privateKeyToAddress(generatePrivateKey()) };

let database: Database;
let db: Db;
let ownerId: string;
let block = 1;
const cleanups: (() => Promise<unknown>)[] = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Received {
  body: string;
  payload: WebhookPayload;
  headers: Record<string, string | string[] | undefined>;
  attempt: number;
  status: number;
}

/** An HTTP receiver that answers each request with `answer(request, index)` and keeps what it got. */
async function receiver(answer: (index: number) => number | Promise<number> = () => 200, extraHeaders: Record<string, string> = {}) {
  const requests: Received[] = [];
  let index = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    const reply = async () => {
      const body = Buffer.concat(chunks).toString();
      const status = await answer(index++);
      requests.push({ body, payload: JSON.parse(body), headers: req.headers, attempt: Number(req.headers['tracewell-attempt']), status });
      res.writeHead(status, extraHeaders).end('answer body, not read');
    };
    // A receiver that cannot answer says so (500) instead of leaving an unhandled rejection.
    req.on('end', () => {
      reply().catch((error: unknown) => res.writeHead(500).end(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  );
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    requests,
    /** The requests answered 2xx. */
    delivered: (subscriptionId?: string) =>
      requests.filter((r) => r.status < 300 && (!subscriptionId || r.payload.subscription === subscriptionId)),
  };
}

/** A webhook subscription of the test owner, starting after the ledger's latest event (its secret sealed, as the API stores it). */
async function subscribe(url: string, filter: EventFilter = {}, secret = secrets.seal(SECRET)): Promise<SubscriptionRow> {
  const row = await createSubscription(db, {
    id: randomUUID(),
    ownerId,
    name: `hook-${randomUUID().slice(0, 8)}`,
    kind: 'webhook',
    filter,
    cursor: await latestSeq(db, ledger),
    url,
    secret,
  });
  cleanups.push(() => deleteSubscription(db, row!.id));
  return row!;
}

interface EventSpec {
  name?: string;
  parts?: string[];
  participants?: string[];
}

/** Appends synthetic ledger events (hash-chained, as the listener would); their sequence numbers. */
function append(specs: EventSpec[]): Promise<number[]> {
  return db.transaction(async (tx) => {
    await lockLedger(tx, ledger);
    let prev = await lastHash(tx, ledger);
    const seqs: number[] = [];
    for (const spec of specs) {
      const row = await appendEvent(tx, prev, {
        chainId: ledger.chainId,
        address: ledger.address,
        blockNumber: block++,
        blockHash: `0x${randomBytes(32).toString('hex')}`,
        logIndex: 0,
        txHash: `0x${randomBytes(32).toString('hex')}`,
        topics: [],
        data: '0x',
        name: spec.name ?? 'PartEventRecorded',
        partIds: spec.parts ?? [],
        participantIds: spec.participants ?? [],
        args: { note: 'synthetic', n: block },
        at: new Date(),
      });
      prev = row!.hash;
      seqs.push(row!.id);
    }
    return seqs;
  });
}

function dispatcher(options: Partial<WebhookDispatcherOptions> = {}): WebhookDispatcher {
  const dispatcher = new WebhookDispatcher({
    db,
    ledger,
    backoff: { initialMs: 10, maxMs: 40 },
    timeoutMs: 2_000,
    pollMs: 10,
    secrets,
    targets: loopbackAllowed,
    log: () => {},
    ...options,
  });
  cleanups.push(() => dispatcher.stop());
  return dispatcher;
}

/** The delivery log of a subscription, oldest first. */
async function deliveries(subscriptionId: string) {
  return db.select().from(webhookDeliveries).where(eq(webhookDeliveries.subscriptionId, subscriptionId)).orderBy(asc(webhookDeliveries.id));
}

beforeAll(async () => {
  database = await openDatabase({ url: inject('databaseUrl') || undefined });
  await database.migrate();
  db = database.db;
  ownerId = `webhook-owner-${randomUUID().slice(0, 8)}`;
  await insertParticipant(db, {
    id: ownerId,
    name: 'Webhook owner',
    roles: [],
    address: privateKeyToAddress(generatePrivateKey()),
    keyRef: 'test:none',
    documentKeyRef: null,
    documentPublicKey: null,
  });
});

// Dispatchers first, then receivers and subscriptions, newest first.
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(() => database?.close());

describe('webhook dispatcher', () => {
  it('delivers every event once, in order and signed, retrying failures with the same body', async () => {
    const hook = await receiver((index) => (index < 2 ? 500 : 200));
    const subscription = await subscribe(hook.url);
    const seqs = await append([{ name: 'PartRegistered', parts: ['urn:test:a'] }, { name: 'Transfer' }, { name: 'PartEventRecorded' }]);
    const running = dispatcher();
    running.start();
    // Until the last answer is logged, not just received: stopping earlier cuts its request short.
    await until('the fifth delivery logged', async () => (await deliveries(subscription.id)).length === 5, 5_000);
    await running.stop();

    expect(hook.delivered().map((r) => r.payload.event.seq)).toEqual(seqs);
    expect(hook.requests.map((r) => [r.payload.event.seq, r.attempt, r.status])).toEqual([
      [seqs[0], 1, 500],
      [seqs[0], 2, 500],
      [seqs[0], 3, 200],
      [seqs[1], 1, 200],
      [seqs[2], 1, 200],
    ]);
    for (const request of hook.requests) {
      const delivery = `${subscription.id}:${request.payload.event.seq}`;
      expect(verifyWebhook(SECRET, request.body, request.headers)).toEqual({ ok: true });
      expect(request.headers).toMatchObject({
        'webhook-id': delivery,
        'webhook-timestamp': expect.stringMatching(/^\d{10}$/),
        'webhook-signature': expect.stringMatching(/^v1,[A-Za-z0-9+/]{43}=$/),
        'content-type': 'application/json',
        'user-agent': 'tracewell-webhooks',
        'tracewell-delivery': delivery,
        'tracewell-event': request.payload.event.name,
      });
      expect(request.payload).toMatchObject({
        subscription: subscription.id,
        delivery,
        event: { contract: ledger.address, chainId: ledger.chainId },
      });
    }
    // Retries carry the very same bytes and id; a changed body, id or timestamp, another secret, or
    // a replay outside the window does not verify.
    expect(new Set(hook.requests.slice(0, 3).map((r) => r.body)).size).toBe(1);
    const first = hook.requests[0]!;
    const sent = Number(first.headers['webhook-timestamp']) * 1000;
    expect(Math.abs(sent - Date.now())).toBeLessThan(60_000);
    expect(first.headers['webhook-signature']).toBe(signWebhook(SECRET, `${subscription.id}:${seqs[0]}`, sent / 1000, first.body));
    expect(verifyWebhook(SECRET, `${first.body} `, first.headers)).toEqual({ ok: false, reason: 'no_match' });
    expect(verifyWebhook('another-secret-0123456789', first.body, first.headers)).toEqual({ ok: false, reason: 'no_match' });
    expect(verifyWebhook(SECRET, first.body, { ...first.headers, 'webhook-id': `${subscription.id}:${seqs[1]}` })).toMatchObject({
      ok: false,
    });
    expect(verifyWebhook(SECRET, first.body, { ...first.headers, 'webhook-timestamp': String(sent / 1000 + 1) })).toMatchObject({
      ok: false,
    });
    expect(verifyWebhook(SECRET, first.body, first.headers, { now: sent + 5 * 60_000 })).toEqual({ ok: true });
    expect(verifyWebhook(SECRET, first.body, first.headers, { now: sent + 6 * 60_000 })).toEqual({ ok: false, reason: 'too_old' });
    expect(verifyWebhook(SECRET, first.body, first.headers, { now: sent - 6 * 60_000 })).toEqual({ ok: false, reason: 'too_new' });

    const log = await deliveries(subscription.id);
    expect(log.map((d) => [d.eventSeq, d.attempt, d.statusCode, d.delivered, d.error])).toEqual([
      [seqs[0], 1, 500, false, 'HTTP 500'],
      [seqs[0], 2, 500, false, 'HTTP 500'],
      [seqs[0], 3, 200, true, null],
      [seqs[1], 1, 200, true, null],
      [seqs[2], 1, 200, true, null],
    ]);
    expect(log.every((d) => d.durationMs >= 0)).toBe(true);
    expect(await getSubscription(db, subscription.id)).toMatchObject({ cursor: seqs[2], failures: 0, status: 'active', lastError: null });
  });

  it('delivers only the events a filter matches (event names, parts, participant)', async () => {
    const hook = await receiver();
    const byEvent = await subscribe(hook.url, { events: ['Transfer', 'Assembled'] });
    const byPart = await subscribe(hook.url, { parts: ['urn:test:p2'] });
    const byParticipant = await subscribe(hook.url, { participant: 'acme-foundry' });
    const seqs = await append([
      { name: 'PartRegistered', parts: ['urn:test:p1'], participants: ['acme-foundry'] },
      { name: 'Transfer', parts: ['urn:test:p2'], participants: ['harbor-retail'] },
      { name: 'Assembled', parts: ['urn:test:p3', 'urn:test:p2'] },
      { name: 'PartEventRecorded', parts: ['urn:test:p1'], participants: ['harbor-retail'] },
      { name: 'Transfer', parts: ['urn:test:p4'], participants: ['acme-foundry', 'harbor-retail'] },
    ]);
    const once = dispatcher();
    while ((await once.runOnce()) > 0);

    const seqsOf = (id: string) => hook.delivered(id).map((r) => r.payload.event.seq);
    expect(seqsOf(byEvent.id)).toEqual([seqs[1], seqs[2], seqs[4]]);
    expect(seqsOf(byPart.id)).toEqual([seqs[1], seqs[2]]);
    expect(seqsOf(byParticipant.id)).toEqual([seqs[0], seqs[4]]);
    expect(hook.requests).toHaveLength(7);
  });

  it('makes a subscription dead after maxFailures, and delivers again once redelivered', async () => {
    let up = false;
    const hook = await receiver(() => (up ? 200 : 503));
    const subscription = await subscribe(hook.url);
    const seqs = await append([{}, {}]);
    const failing = dispatcher({ maxFailures: 3 });
    failing.start();
    await until('the subscription dead', async () => (await getSubscription(db, subscription.id))!.status === 'dead', 5_000);
    await failing.stop();

    expect(hook.requests.map((r) => [r.payload.event.seq, r.attempt])).toEqual([
      [seqs[0], 1],
      [seqs[0], 2],
      [seqs[0], 3],
    ]);
    const before = await getSubscription(db, subscription.id);
    expect(before).toMatchObject({ status: 'dead', failures: 3, lastError: 'HTTP 503', nextAttemptAt: null, cursor: subscription.cursor });

    // Dead means no more attempts, even with the receiver back.
    up = true;
    const later = dispatcher({ maxFailures: 3 });
    await later.runOnce();
    expect(hook.requests).toHaveLength(3);

    await reactivateSubscription(db, subscription.id);
    await later.runOnce();
    expect(hook.delivered().map((r) => [r.payload.event.seq, r.attempt])).toEqual([
      [seqs[0], 4],
      [seqs[1], 1],
    ]);
    expect(await getSubscription(db, subscription.id)).toMatchObject({ status: 'active', failures: 0, cursor: seqs[1] });
  });

  it('counts redirects, timeouts and refused connections as failures', async () => {
    const target = await receiver();
    const redirecting = await receiver(() => 302, { location: target.url });
    const hanging = await receiver(() => new Promise<number>(() => {}));
    const refused = await subscribe(await closedPortUrl());
    const redirected = await subscribe(redirecting.url);
    const timedOut = await subscribe(hanging.url);
    await append([{}]);
    await dispatcher({ maxFailures: 1, timeoutMs: 300 }).runOnce();

    expect(target.requests).toHaveLength(0);
    const [redirectLog] = await deliveries(redirected.id);
    expect(redirectLog).toMatchObject({ statusCode: 302, delivered: false, error: 'HTTP 302 (redirects are not followed)' });
    const [timeoutLog] = await deliveries(timedOut.id);
    expect(timeoutLog).toMatchObject({ statusCode: null, delivered: false, error: 'no answer within 300 ms' });
    expect(timeoutLog!.durationMs).toBeGreaterThanOrEqual(290);
    const [refusedLog] = await deliveries(refused.id);
    expect(refusedLog).toMatchObject({ statusCode: null, delivered: false });
    expect(refusedLog!.error).toContain('ECONNREFUSED');
    for (const id of [refused.id, redirected.id, timedOut.id]) expect((await getSubscription(db, id))!.status).toBe('dead');
  });

  it('is woken by the mirror signal, and stops at once, aborting a request in flight', async () => {
    const signal = new MirrorSignal();
    let hang = false;
    const hook = await receiver(() => (hang ? new Promise<number>(() => {}) : 200));
    const subscription = await subscribe(hook.url);
    // Polling alone would take a minute.
    const running = dispatcher({ signal, pollMs: 60_000, timeoutMs: 30_000 });
    running.start();
    await sleep(100);
    const seqs = await append([{}, {}]);
    signal.notify();
    await until('two events delivered', () => hook.delivered().length === 2, 3_000);
    expect(hook.delivered().map((r) => r.payload.event.seq)).toEqual(seqs);

    hang = true;
    const [stuck] = await append([{}]);
    signal.notify();
    // The request for it is in flight (the receiver holds it) when the dispatcher stops.
    await sleep(200);
    const stopping = Date.now();
    await running.stop();
    expect(Date.now() - stopping).toBeLessThan(1_000);
    const last = (await deliveries(subscription.id)).at(-1);
    expect(last).toMatchObject({ eventSeq: stuck, delivered: false, statusCode: null, error: 'the dispatcher stopped during the request' });
    // Not the receiver's fault: no failure counted, and due again at once.
    expect(await getSubscription(db, subscription.id)).toMatchObject({
      failures: 0,
      status: 'active',
      nextAttemptAt: null,
      cursor: seqs[1],
    });
  });

  it('delivers each event once when two dispatchers run together', async () => {
    const hook = await receiver(async () => {
      await sleep(2);
      return 200;
    });
    const subscriptions = [await subscribe(hook.url), await subscribe(hook.url), await subscribe(hook.url)];
    const seqs = await append(Array.from({ length: 15 }, () => ({})));
    const [a, b] = [dispatcher({ concurrency: 2, batch: 4 }), dispatcher({ concurrency: 2, batch: 4 })];
    a.start();
    b.start();
    await until('45 requests', () => hook.requests.length >= 45, 10_000);
    await sleep(50);
    await Promise.all([a.stop(), b.stop()]);

    expect(hook.requests).toHaveLength(45);
    for (const subscription of subscriptions) {
      expect(hook.delivered(subscription.id).map((r) => r.payload.event.seq)).toEqual(seqs);
      const log = await deliveries(subscription.id);
      expect(log.map((d) => [d.eventSeq, d.attempt, d.delivered])).toEqual(seqs.map((seq) => [seq, 1, true]));
    }
  });
});

describe('webhook targets', () => {
  it('refuses a loopback receiver by default: the attempt fails, saying why, and nothing is sent', async () => {
    const hook = await receiver();
    const subscription = await subscribe(hook.url);
    await append([{}]);
    await dispatcher({ targets: new WebhookTargetPolicy() }).runOnce();

    expect(hook.requests).toHaveLength(0);
    const [attempt] = await deliveries(subscription.id);
    expect(attempt).toMatchObject({ delivered: false, statusCode: null });
    expect(attempt!.error).toMatch(/^refused: 127\.0\.0\.1 is a loopback address; webhooks go to public addresses only/);
    expect(await getSubscription(db, subscription.id)).toMatchObject({ failures: 1, lastError: attempt!.error });
  });

  it('checks the address again at delivery: a name that rebinds to 127.0.0.1 after subscribing is refused', async () => {
    const hook = await receiver();
    const port = new URL(hook.url).port;
    // A resolver standing in for a hostile DNS server: a public address first, loopback later.
    let lookups = 0;
    const rebinding = new WebhookTargetPolicy([], async () => [{ address: lookups++ === 0 ? '203.0.113.10' : '127.0.0.1', family: 4 }]);
    const url = `http://hooks.rebind.test:${port}/hook`;
    await expect(rebinding.checkUrl(url)).resolves.toBeUndefined();

    const subscription = await subscribe(url);
    await append([{}]);
    await dispatcher({ targets: rebinding }).runOnce();
    expect(hook.requests).toHaveLength(0);
    const [attempt] = await deliveries(subscription.id);
    expect(attempt!.error).toMatch(/^refused: hooks\.rebind\.test resolves to 127\.0\.0\.1, which is a loopback address/);
  });

  it('connects to the address it checked, not to one resolved again (the Host header keeps the name)', async () => {
    const hook = await receiver();
    const port = new URL(hook.url).port;
    // hooks.pinned.test is known to no system resolver: only the checked address can be reached.
    const pinned = new WebhookTargetPolicy(['127.0.0.1'], async () => [{ address: '127.0.0.1', family: 4 }]);
    const subscription = await subscribe(`http://hooks.pinned.test:${port}/hook`);
    const [seq] = await append([{}]);
    expect(await dispatcher({ targets: pinned }).runOnce()).toBe(1);
    expect(hook.requests.map((r) => [r.payload.event.seq, r.headers.host])).toEqual([[seq, `hooks.pinned.test:${port}`]]);
    expect(await getSubscription(db, subscription.id)).toMatchObject({ cursor: seq, failures: 0 });
  });

  it('refuses a name the system resolver maps to loopback (localhost) at subscription time', async () => {
    await expect(new WebhookTargetPolicy().checkUrl('http://localhost:8080/hook')).rejects.toMatchObject({
      name: 'WebhookTargetRefused',
      host: 'localhost',
      addressClass: 'loopback',
    });
  });
});

describe('webhook secrets at rest', () => {
  it('seals secrets stored in clear before encryption, then signs with the secret they hold', async () => {
    const hook = await receiver();
    const legacy = await subscribe(hook.url, {}, SECRET);
    expect(await sealPlainSecrets(db, SecretBox.isSealed, (plain) => secrets.seal(plain))).toBeGreaterThanOrEqual(1);
    const stored = (await getSubscription(db, legacy.id))!.secret!;
    expect(stored).toMatch(/^enc:v1:/);
    expect(stored).not.toContain(SECRET);
    expect(secrets.open(stored)).toBe(SECRET);
    // Sealing again changes nothing.
    await sealPlainSecrets(db, SecretBox.isSealed, (plain) => secrets.seal(plain));
    expect((await getSubscription(db, legacy.id))!.secret).toBe(stored);

    await append([{}]);
    expect(await dispatcher().runOnce()).toBeGreaterThanOrEqual(1);
    expect(hook.requests).toHaveLength(1);
    expect(verifyWebhook(SECRET, hook.requests[0]!.body, hook.requests[0]!.headers)).toEqual({ ok: true });
  });

  it('fails the attempt, saying so, when the secret does not open with the dispatcher key', async () => {
    const hook = await receiver();
    const subscription = await subscribe(hook.url);
    await append([{}]);
    await dispatcher({ secrets: new SecretBox(randomBytes(32)) }).runOnce();
    expect(hook.requests).toHaveLength(0);
    const [attempt] = await deliveries(subscription.id);
    expect(attempt!.error).toContain('does not open with this key');
  });
});

describe('delivery-log retention', () => {
  it('prunes rows past the retention but never a failed attempt at an event not yet delivered', async () => {
    const flaky = await receiver((index) => (index === 0 ? 500 : 200));
    const down = await receiver(() => 503);
    const delivered = await subscribe(flaky.url);
    const pending = await subscribe(down.url);
    await append([{}, {}]);
    const running = dispatcher();
    await until('both logged', async () => {
      await running.runOnce();
      await reactivateSubscription(db, pending.id);
      return (await deliveries(delivered.id)).length === 3 && (await deliveries(pending.id)).length >= 1;
    });
    // All of it eight days old, then one fresh delivery.
    await db
      .update(webhookDeliveries)
      .set({ at: new Date(Date.now() - 8 * 86_400_000) })
      .where(inArray(webhookDeliveries.subscriptionId, [delivered.id, pending.id]));
    const [fresh] = await append([{}]);
    await until('the fresh one delivered', async () => {
      await running.runOnce();
      return (await deliveries(delivered.id)).some((d) => d.eventSeq === fresh);
    });
    const pendingBefore = await deliveries(pending.id);

    const pruned = await dispatcher({ retentionMs: 7 * 86_400_000 }).pruneDeliveryLog();
    expect(pruned).toBeGreaterThanOrEqual(3);
    // The old attempts of delivered events went (the failed first try too: its event was delivered later).
    expect((await deliveries(delivered.id)).map((d) => [d.eventSeq, d.delivered])).toEqual([[fresh, true]]);
    // The pending subscription's failures stay, however old: they say why it is stuck.
    const kept = await deliveries(pending.id);
    expect(kept.filter((d) => d.at.getTime() < Date.now() - 7 * 86_400_000)).toEqual(
      pendingBefore.filter((d) => d.at.getTime() < Date.now() - 7 * 86_400_000),
    );
    expect(kept.length).toBeGreaterThanOrEqual(1);
    expect(kept.every((d) => !d.delivered)).toBe(true);
  });

  it('prunes from the delivery loop', async () => {
    const hook = await receiver();
    const subscription = await subscribe(hook.url);
    await append([{}]);
    await dispatcher().runOnce();
    await db
      .update(webhookDeliveries)
      .set({ at: new Date(Date.now() - 2 * 86_400_000) })
      .where(eq(webhookDeliveries.subscriptionId, subscription.id));
    const running = dispatcher({ retentionMs: 86_400_000 });
    running.start();
    await until('the old row pruned', async () => (await deliveries(subscription.id)).length === 0, 5_000);
  });
});

describe('retryDelay', () => {
  it('doubles from initialMs up to maxMs, with at most 10 % jitter', () => {
    const backoff = { initialMs: 1000, maxMs: 300_000 };
    expect([1, 2, 3, 4].map((failures) => retryDelay(failures, backoff, () => 0))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelay(20, backoff, () => 0)).toBe(300_000);
    expect(retryDelay(1, backoff, () => 0.999)).toBe(1100);
  });
});

/** A URL on 127.0.0.1 where nothing listens. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/hook`;
}
