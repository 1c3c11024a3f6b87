// Ledger events end to end, on the whole stack: a part's lifecycle reaches the SQL mirror through the
// listener, a webhook receiver that fails twice gets each event once and signed, a WebSocket client
// that drops mid-stream resumes right after its last acknowledgement, and /ops/verify proves the
// mirror equals the chain.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { verifyWebhook } from '../../domain/streams/webhook-signature.js';
import type { Stack } from '../../app/wiring/stack.js';
import { apiClient, waitingFor } from '../support/api-client.js';
import { startTestStack, TEST_ADMIN_API_KEY, uniqueId } from '../support/env.js';
import { until } from '../support/until.js';

let stack: Stack;
const api = apiClient(() => stack.apiUrl);

/** A webhook receiver answering 500 to its first `failures` requests, then 200. */
async function startReceiver(failures: number) {
  const received: { body: string; headers: Record<string, string | string[] | undefined>; status: number }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = received.length < failures ? 500 : 200;
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: request.headers, status });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A WebSocket client of /events/ws that records every frame. */
async function connect() {
  const socket = new WebSocket(`${stack.apiUrl.replace('http', 'ws')}/events/ws`, {
    headers: { authorization: `Bearer ${TEST_ADMIN_API_KEY}` },
  });
  const frames: any[] = [];
  socket.on('message', (data) => frames.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return { socket, frames, events: () => frames.filter((frame) => frame.type === 'event') };
}

/** Runs a part-basic lifecycle to the end: minted to acme-foundry, sold and moved to northwind-logistics. */
async function runLifecycle(id: string) {
  expect((await api.call('POST', '/parts', { id, lifecycle: 'part-basic', params: { batch: 'E-1' } })).status).toBe(201);
  await api.untilPart(id, waitingFor('sold'));
  expect((await api.call('POST', `/parts/${id}/updates/sold`, { buyer: 'northwind-logistics' })).status).toBe(200);
  await api.untilPart(id, (part) => part.status === 'completed');
}

beforeAll(async () => {
  stack = await startTestStack({ LEDGER_POLL_MS: '100' });
});

afterAll(async () => {
  await stack?.stop();
});

describe('ledger events', () => {
  it("mirrors a lifecycle's events, delivers them to a webhook that fails twice (once each, signed) and to a WebSocket that reconnects", async () => {
    const id = uniqueId('urn:test:events');
    const receiver = await startReceiver(2);
    try {
      const hook = await api.call('POST', '/events/subscriptions', {
        name: `hook-${id.slice(-8)}`,
        kind: 'webhook',
        url: receiver.url,
        filter: { parts: [id] },
        start: 'newest',
      });
      expect(hook.status).toBe(201);
      const secret: string = hook.body.secret;
      const socketSubscription = await api.call('POST', '/events/subscriptions', {
        name: `ws-${id.slice(-8)}`,
        kind: 'websocket',
        filter: { parts: [id] },
        start: 'newest',
      });
      expect(socketSubscription.status).toBe(201);

      // A WebSocket client subscribes before the part exists, acks the first event only, then drops.
      const first = await connect();
      first.socket.send(JSON.stringify({ type: 'subscribe', subscription: socketSubscription.body.id }));

      await runLifecycle(id);

      // The mirror, as any participant reads it: mint (Transfer from zero, PartRegistered), then the sale.
      const listed = await api.call('GET', `/events?parts=${encodeURIComponent(id)}&after=0`);
      expect(listed.status).toBe(200);
      const names = listed.body.events.map((event: any) => event.name);
      expect(names).toEqual(['Transfer', 'PartRegistered', 'Transfer']);
      const events = listed.body.events;
      expect(events[2].args).toMatchObject({ part: id, from: 'acme-foundry', to: 'northwind-logistics' });
      expect(events.map((event: any) => event.seq)).toEqual(
        [...events.map((event: any) => event.seq)].sort((a: number, b: number) => a - b),
      );

      // Webhook: 500, 500, then every event exactly once, in order, signed with the subscription's secret.
      await until('three webhook deliveries', () => receiver.received.filter((r) => r.status === 200).length === 3 && true);
      const delivered = receiver.received.filter((r) => r.status === 200);
      expect(receiver.received.map((r) => r.status)).toEqual([500, 500, 200, 200, 200]);
      expect(delivered.map((r) => JSON.parse(r.body).event.seq)).toEqual(events.map((event: any) => event.seq));
      for (const request of receiver.received) {
        expect(verifyWebhook(secret, request.body, request.headers)).toEqual({ ok: true });
      }
      // The retries of the first event carried the same delivery id.
      expect(new Set(receiver.received.slice(0, 3).map((r) => r.headers['tracewell-delivery'])).size).toBe(1);
      // The deliverer records a delivery after the receiver has answered, so wait for the fifth row.
      const deliveries = async () => (await api.call('GET', `/events/subscriptions/${hook.body.id}/deliveries`)).body.deliveries;
      await until('five delivery log rows', async () => (await deliveries()).length === 5);
      expect((await deliveries()).map((d: any) => d.statusCode).reverse()).toEqual([500, 500, 200, 200, 200]);

      // WebSocket: three events arrive; ack the first and drop the connection.
      await until('three events on the socket', () => first.events().length === 3 && true);
      expect(first.events().map((frame) => frame.seq)).toEqual(events.map((event: any) => event.seq));
      first.socket.send(JSON.stringify({ type: 'ack', seq: events[0].seq }));
      await until(
        'the ack stored',
        async () => (await api.call('GET', `/events/subscriptions/${socketSubscription.body.id}`)).body.cursor === events[0].seq,
      );
      first.socket.terminate();

      // Reconnected, it gets exactly the events after its last ack.
      const second = await connect();
      second.socket.send(JSON.stringify({ type: 'subscribe', subscription: socketSubscription.body.id }));
      await until('the unacked events again', () => second.events().length === 2 && true);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(second.events().map((frame) => frame.seq)).toEqual([events[1].seq, events[2].seq]);
      second.socket.close();
    } finally {
      await receiver.close();
    }

    // The mirror equals the chain.
    const verify = await api.call('GET', '/ops/verify');
    expect(verify.status).toBe(200);
    expect(verify.body).toMatchObject({ ok: true, drift: [] });
    expect(verify.body.rows).toBeGreaterThanOrEqual(3);
    const status = await api.call('GET', '/ops/listener');
    expect(status.body).toMatchObject({ ledger: { address: stack.core.registry.address } });
    expect(status.body.events).toBe(verify.body.rows);
  });

  it('keeps /ops/verify and /ops/listener for operators', async () => {
    const outsider = await api.newParticipant([], 'ev');
    expect((await outsider.api.call('GET', '/ops/verify')).status).toBe(403);
    expect((await outsider.api.call('GET', '/ops/listener')).status).toBe(403);
  });
});
