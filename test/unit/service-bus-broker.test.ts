// Drives the in-process test broker with the real @azure/service-bus client.
import { ServiceBusClient } from '@azure/service-bus';
import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestBroker } from '../support/service-bus-broker.js';
import type { TestBroker } from '../support/service-bus-broker.js';

let broker: TestBroker;
let client: ServiceBusClient;
let queueCounter = 0;
const queue = (prefix = 'q') => `${prefix}-${++queueCounter}`;

beforeAll(async () => {
  broker = await startTestBroker({ maxDeliveryCount: 3 });
  client = new ServiceBusClient(broker.connectionString, { retryOptions: { maxRetries: 1, retryDelayInMs: 50, timeoutInMs: 5_000 } });
});

afterAll(async () => {
  await client?.close();
  await broker?.close();
});

async function send(entity: string, ...bodies: unknown[]): Promise<void> {
  const sender = client.createSender(entity);
  try {
    await sender.sendMessages(bodies.map((body, i) => ({ body, messageId: `m-${i}`, applicationProperties: { index: i } })));
  } finally {
    await sender.close();
  }
}

async function receiveOne(receiver: ServiceBusReceiver): Promise<ServiceBusReceivedMessage> {
  const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 2_000 });
  if (!message) throw new Error('no message received');
  return message;
}

describe('service bus test broker', () => {
  it('delivers single and batched sends in order with ids and application properties', async () => {
    const q = queue();
    const sender = client.createSender(q);
    await sender.sendMessages({ body: { n: 1 }, messageId: 'first', applicationProperties: { kind: 'single' } });
    await sender.sendMessages([
      { body: { n: 2 }, messageId: 'second', applicationProperties: { kind: 'array' } },
      { body: 'three', messageId: 'third' },
    ]);
    const batch = await sender.createMessageBatch();
    expect(batch.tryAddMessage({ body: { n: 4 }, messageId: 'fourth', applicationProperties: { kind: 'batch', count: 4 } })).toBe(true);
    expect(batch.tryAddMessage({ body: Buffer.from('five') })).toBe(true);
    await sender.sendMessages(batch);
    await sender.close();
    expect(
      broker
        .peek(q)
        .map((m) => m.messageId)
        .slice(0, 4),
    ).toEqual(['first', 'second', 'third', 'fourth']);

    const receiver = client.createReceiver(q, { receiveMode: 'peekLock' });
    const messages = await receiver.receiveMessages(5, { maxWaitTimeInMs: 2_000 });
    expect(messages.map((m) => m.body)).toEqual([{ n: 1 }, { n: 2 }, 'three', { n: 4 }, Buffer.from('five')]);
    expect(messages.slice(0, 4).map((m) => m.messageId)).toEqual(['first', 'second', 'third', 'fourth']);
    expect(messages[4]!.messageId).toEqual(expect.any(String)); // assigned by the broker
    expect(messages.map((m) => m.applicationProperties)).toEqual([
      { kind: 'single' },
      { kind: 'array' },
      undefined,
      { kind: 'batch', count: 4 },
      undefined,
    ]);
    expect(messages.map((m) => m.deliveryCount)).toEqual([0, 0, 0, 0, 0]);
    expect(new Set(messages.map((m) => m.lockToken)).size).toBe(5);
    expect(messages[0]!.sequenceNumber!.toNumber()).toBeLessThan(messages[4]!.sequenceNumber!.toNumber());
    expect(messages[0]!.lockedUntilUtc!.getTime()).toBeGreaterThan(Date.now());
    for (const message of messages) await receiver.completeMessage(message);
    await receiver.close();
  });

  it('complete removes the message', async () => {
    const q = queue();
    await send(q, 'a', 'b');
    const receiver = client.createReceiver(q);
    const message = await receiveOne(receiver);
    expect(broker.peek(q).map((m) => [m.body, m.locked])).toEqual([
      ['a', true],
      ['b', false],
    ]);
    await receiver.completeMessage(message);
    expect(broker.peek(q).map((m) => m.body)).toEqual(['b']);
    await receiver.close();
  });

  it('abandon redelivers with deliveryCount + 1, and renewLock works', async () => {
    const q = queue();
    await send(q, 'again');
    const receiver = client.createReceiver(q);
    const first = await receiveOne(receiver);
    const renewed = await receiver.renewMessageLock(first);
    expect(renewed.getTime()).toBeGreaterThanOrEqual(first.lockedUntilUtc!.getTime());
    await receiver.abandonMessage(first, { note: 'tried' });
    expect(broker.peek(q)[0]).toMatchObject({ deliveryCount: 1, locked: false });
    const second = await receiveOne(receiver);
    expect(second).toMatchObject({ body: 'again', messageId: 'm-0', deliveryCount: 1, applicationProperties: { index: 0 } });
    expect(second.lockToken).not.toBe(first.lockToken);
    await receiver.completeMessage(second);
    expect(broker.peek(q)).toEqual([]);
    await receiver.close();
  });

  it('dead-letters with reason and description, receivable from the dead-letter queue', async () => {
    const q = queue();
    await send(q, { order: 7 });
    const receiver = client.createReceiver(q);
    const message = await receiveOne(receiver);
    await receiver.deadLetterMessage(message, { deadLetterReason: 'BadOrder', deadLetterErrorDescription: 'order 7 is malformed' });
    await receiver.close();
    expect(broker.peek(q)).toEqual([]);
    expect(broker.deadLetters(q)).toMatchObject([
      {
        body: { order: 7 },
        messageId: 'm-0',
        deadLetterReason: 'BadOrder',
        deadLetterErrorDescription: 'order 7 is malformed',
        applicationProperties: { index: 0 },
      },
    ]);

    const dlq = client.createReceiver(q, { subQueueType: 'deadLetter' });
    const dead = await receiveOne(dlq);
    expect(dead).toMatchObject({
      body: { order: 7 },
      messageId: 'm-0',
      deadLetterReason: 'BadOrder',
      deadLetterErrorDescription: 'order 7 is malformed',
      deadLetterSource: q,
    });
    expect(dead.applicationProperties).toMatchObject({ index: 0 });
    await dlq.completeMessage(dead);
    expect(broker.deadLetters(q)).toEqual([]);
    await dlq.close();
  });

  it('moves a message to the dead-letter queue when max delivery count is exceeded', async () => {
    const q = queue();
    await send(q, 'poison');
    const receiver = client.createReceiver(q);
    for (let attempt = 0; attempt < 3; attempt++) {
      const message = await receiveOne(receiver);
      expect(message.deliveryCount).toBe(attempt);
      await receiver.abandonMessage(message);
    }
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).toEqual([]);
    await receiver.close();
    expect(broker.deadLetters(q)).toMatchObject([{ body: 'poison', deadLetterReason: 'MaxDeliveryCountExceeded', deliveryCount: 3 }]);
  });

  it('redelivers a message locked by a receiver that closed to the next receiver', async () => {
    const q = queue();
    await send(q, 'orphan');
    const first = client.createReceiver(q);
    const locked = await receiveOne(first);
    expect(locked.deliveryCount).toBe(0);
    await first.close();
    const second = client.createReceiver(q);
    const again = await receiveOne(second);
    expect(again).toMatchObject({ body: 'orphan', deliveryCount: 1 });
    await second.completeMessage(again);
    await second.close();
  });

  it('subscribe() with autoComplete off and two concurrent calls processes everything', async () => {
    const q = queue();
    const bodies = Array.from({ length: 10 }, (_, i) => i);
    await send(q, ...bodies);
    const receiver = client.createReceiver(q);
    const seen: number[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const errors: Error[] = [];
    await new Promise<void>((resolve, reject) => {
      receiver.subscribe(
        {
          async processMessage(message) {
            concurrent++;
            maxConcurrent = Math.max(maxConcurrent, concurrent);
            await new Promise((r) => setTimeout(r, 10));
            if (message.body === 3 && message.deliveryCount === 0) await receiver.abandonMessage(message);
            else {
              await receiver.completeMessage(message);
              seen.push(message.body as number);
            }
            concurrent--;
            if (seen.length === bodies.length) resolve();
          },
          async processError(args) {
            errors.push(args.error);
            reject(args.error);
          },
        },
        { autoCompleteMessages: false, maxConcurrentCalls: 2 },
      );
    });
    await receiver.close();
    expect(errors).toEqual([]);
    expect([...seen].sort((a, b) => a - b)).toEqual(bodies);
    expect(maxConcurrent).toBe(2);
    expect(broker.peek(q)).toEqual([]);
  });

  it('fans a topic out to its subscriptions', async () => {
    const topic = queue('topic');
    broker.createTopicSubscription(topic, 'audit');
    broker.createTopicSubscription(topic, 'billing');
    await send(topic, 'event-1', 'event-2');
    expect(broker.peek(`${topic}/Subscriptions/audit`).map((m) => m.body)).toEqual(['event-1', 'event-2']);
    for (const subscription of ['audit', 'billing']) {
      const receiver = client.createReceiver(topic, subscription);
      const messages = await receiver.receiveMessages(2, { maxWaitTimeInMs: 2_000 });
      expect(messages.map((m) => [m.body, m.messageId, m.applicationProperties])).toEqual([
        ['event-1', 'm-0', { index: 0 }],
        ['event-2', 'm-1', { index: 1 }],
      ]);
      for (const message of messages) await receiver.completeMessage(message);
      await receiver.close();
      expect(broker.peek(`${topic}/Subscriptions/${subscription}`)).toEqual([]);
    }
  });

  it('receiveAndDelete removes on delivery; peekMessages reads without locking', async () => {
    const q = queue();
    await send(q, 'x', 'y');
    const receiver = client.createReceiver(q, { receiveMode: 'receiveAndDelete' });
    const peeked = await receiver.peekMessages(5);
    expect(peeked.map((m) => m.body)).toEqual(['x', 'y']);
    const messages = await receiver.receiveMessages(2, { maxWaitTimeInMs: 2_000 });
    expect(messages.map((m) => m.body)).toEqual(['x', 'y']);
    expect(broker.peek(q)).toEqual([]);
    await receiver.close();
  });
});

describe('service bus test broker: lock expiry and outages', () => {
  it('releases an expired lock and reports lock lost on late settlement', async () => {
    const shortLocks = await startTestBroker({ lockDurationMs: 300 });
    const sbClient = new ServiceBusClient(shortLocks.connectionString, { retryOptions: { maxRetries: 0 } });
    try {
      await sbClient.createSender('q').sendMessages({ body: 'slow' });
      // Auto lock renewal would keep the lock alive: turn it off to see expiry.
      const receiver = sbClient.createReceiver('q', { maxAutoLockRenewalDurationInMs: 0 });
      const message = await receiveOne(receiver);
      await new Promise((r) => setTimeout(r, 450));
      expect(shortLocks.peek('q')).toMatchObject([{ deliveryCount: 1, locked: false }]);
      await expect(receiver.completeMessage(message)).rejects.toMatchObject({ code: 'MessageLockLost' });
      const again = await receiveOne(receiver);
      expect(again.deliveryCount).toBe(1);
      await receiver.completeMessage(again);
    } finally {
      await sbClient.close();
      await shortLocks.close();
    }
  });

  it('keeps queued messages across close() and restart(); clients reconnect', async () => {
    const outage = await startTestBroker();
    const sbClient = new ServiceBusClient(outage.connectionString, {
      retryOptions: { maxRetries: 2, retryDelayInMs: 50, timeoutInMs: 1_000 },
    });
    try {
      const sender = sbClient.createSender('q');
      await sender.sendMessages({ body: 'before' });
      const receiver = sbClient.createReceiver('q');
      const received: unknown[] = [];
      const receiveErrors: string[] = [];
      const subscription = receiver.subscribe(
        {
          async processMessage(message) {
            received.push(message.body);
            await receiver.completeMessage(message);
          },
          async processError(args) {
            receiveErrors.push(args.errorSource);
          },
        },
        { autoCompleteMessages: false },
      );
      await vi.waitFor(() => expect(received).toEqual(['before']), { timeout: 1_000, interval: 10 });

      await outage.close();
      // A send while the namespace is down fails at once (connection refused is not retried).
      await expect(sender.sendMessages({ body: 'lost' })).rejects.toMatchObject({ code: 'GeneralError' });
      await outage.restart();
      await sender.sendMessages({ body: 'after' });
      // The subscribed receiver reported the outage through processError and reattached by itself.
      await vi.waitFor(() => expect(received).toEqual(['before', 'after']), { timeout: 1_500, interval: 10 });
      expect(receiveErrors.length).toBeGreaterThan(0);
      await subscription.close();
      expect(outage.peek('q')).toEqual([]);
    } finally {
      await sbClient.close();
      await outage.close();
    }
  });
});
