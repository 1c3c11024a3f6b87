// Service Bus, both ways, with the real @azure/service-bus client against the in-process AMQP test
// broker: the intake queue starts parts and delivers their events once per message id, dead-letters
// what can never apply (with a reason that says why), rides out a Temporal outage by giving messages
// back, and resubmits from the dead-letter queue after a fix; the ledger events go out on a topic.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { ServiceBusClient } from '@azure/service-bus';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { Client, Connection } from '@temporalio/client';
import { eq, inArray } from 'drizzle-orm';
import { intakeMessages } from '../../db/schema.js';
import { IntakeProcessor } from '../../domain/intake/processor.js';
import { listDeadLetters, resubmitDeadLetters, startIntake } from '../../domain/intake/service-bus.js';
import type { RunningIntake } from '../../domain/intake/service-bus.js';
import type { Stack } from '../../app/wiring/stack.js';
import { apiClient, waitingFor } from '../support/api-client.js';
import { startTestStack, uniqueId } from '../support/env.js';
import { startTestBroker } from '../support/service-bus-broker.js';
import type { TestBroker } from '../support/service-bus-broker.js';
import { startTcpGate } from '../../tools/faults/tcp-gate.js';
import type { TcpGate } from '../../tools/faults/tcp-gate.js';
import { until } from '../support/until.js';

const run = randomUUID().slice(0, 8);
const QUEUE = `intake-${run}`;
const TOPIC = `events-${run}`;

let broker: TestBroker;
let bus: ServiceBusClient;
let stack: Stack;
const api = apiClient(() => stack.apiUrl);

async function send(queue: string, messageId: string, body: unknown): Promise<void> {
  const sender = bus.createSender(queue);
  try {
    await sender.sendMessages({ messageId, body, contentType: 'application/json' });
  } finally {
    await sender.close();
  }
}

const startPart = (id: string, participant = 'acme-foundry', lifecycle = 'part-basic') => ({
  type: 'start-part',
  version: 1,
  participant,
  part: { id, lifecycle, params: { batch: 'SB-1' } },
});
// part-basic takes `sold` from the part's manufacturer (`by: manufacturer`), here the default.
const sold = (id: string, participant = 'acme-foundry') => ({
  type: 'deliver-event',
  version: 1,
  participant,
  part: id,
  event: 'sold',
  payload: { buyer: 'northwind-logistics' },
});

async function intakeRow(messageId: string) {
  const [row] = await stack.core.database.db.select().from(intakeMessages).where(eq(intakeMessages.messageId, messageId));
  return row;
}

beforeAll(async () => {
  broker = await startTestBroker();
  broker.createTopicSubscription(TOPIC, 'all');
  bus = new ServiceBusClient(broker.connectionString);
  stack = await startTestStack({
    SERVICE_BUS_CONNECTION_STRING: broker.connectionString,
    SERVICE_BUS_INTAKE_QUEUE: QUEUE,
    SERVICE_BUS_EVENTS_TOPIC: TOPIC,
    LEDGER_POLL_MS: '100',
  });
});

afterAll(async () => {
  await stack?.stop();
  await bus?.close();
  await broker?.close();
});

describe('Service Bus intake', () => {
  const partId = uniqueId('urn:test:sb');

  it('starts a part and delivers its event, each once although every message is sent twice', async () => {
    const started = `start-${partId}`;
    await send(QUEUE, started, startPart(partId));
    await send(QUEUE, started, startPart(partId));
    await api.untilPart(partId, waitingFor('sold'));
    const event = `sold-${partId}`;
    await send(QUEUE, event, sold(partId));
    await send(QUEUE, event, JSON.stringify(sold(partId)));

    const done = await api.untilPart(partId, (part) => part.status === 'completed');
    expect(done.owner.id).toBe('northwind-logistics');
    expect(done.ownership).toHaveLength(2);
    expect(done.steps.map((step: any) => [step.id, step.status, step.attempts])).toEqual([
      ['mint', 'succeeded', 1],
      ['sold', 'succeeded', 0],
      ['deliver', 'succeeded', 1],
    ]);
    await until('the queue drained', () => broker.peek(QUEUE).length === 0);
    expect(broker.deadLetters(QUEUE)).toEqual([]);
    expect(await intakeRow(started)).toMatchObject({ status: 'applied', type: 'start-part', partId, participantId: 'acme-foundry' });
    expect(await intakeRow(event)).toMatchObject({ status: 'applied', type: 'deliver-event', partId });

    // A delivery that made its effect but died before recording it leaves the key `applying`. The
    // part has completed since, so the checks before the effect would now refuse: Temporal has the
    // effect under the key, and the redelivery completes as applied instead.
    const db = stack.core.database.db;
    await db
      .update(intakeMessages)
      .set({ status: 'applying' })
      .where(inArray(intakeMessages.messageId, [started, event]));
    await send(QUEUE, started, startPart(partId));
    await send(QUEUE, event, sold(partId));
    await until(
      'both applied again',
      async () => (await intakeRow(started))?.status === 'applied' && (await intakeRow(event))?.status === 'applied',
    );
    await until('the queue drained', () => broker.peek(QUEUE).length === 0);
    expect(broker.deadLetters(QUEUE)).toEqual([]);
    expect(await intakeRow(started)).toMatchObject({ result: { started: 'earlier' } });
  });

  it('delivers an event as a signal, kept by the part when early, and recorded once although sent twice', async () => {
    const id = uniqueId('urn:test:sb-signal');
    expect((await api.call('POST', '/parts', { id, lifecycle: 'part-basic', params: { batch: 'SB-3' } })).status).toBe(201);
    const signal = `signal-${id}`;
    await send(QUEUE, signal, { ...sold(id), as: 'signal' });
    await send(QUEUE, signal, { ...sold(id), as: 'signal' });
    const done = await api.untilPart(id, (part) => part.status === 'completed');
    expect(done.owner.id).toBe('northwind-logistics');
    await until('the queue drained', () => broker.peek(QUEUE).length === 0);
    const history = await stack.client.workflow.getHandle(id).fetchHistory();
    const signals = (history.events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes);
    expect(signals).toHaveLength(1);
    expect(await intakeRow(signal)).toMatchObject({ status: 'applied', result: { delivered: 'signal' } });
  });

  it('dead-letters each message that can never apply, saying why, and resubmits one after a fix', async () => {
    const later = uniqueId('urn:test:sb-later');
    const invalid: [string, unknown, string, RegExp][] = [
      ['bad-json', '{"type": "start-part",', 'message_not_json', /^the body is not JSON/],
      [
        'unknown-type',
        { type: 'ship-part', version: 1 },
        'unknown_message_type',
        /^type: "ship-part" is not a message type; expected one of start-part, deliver-event, attach-document$/,
      ],
      ['old-version', { ...startPart(uniqueId()), version: 2 }, 'unsupported_message_version', /^version: 2 is not supported/],
      [
        'schema',
        { type: 'start-part', version: 1, participant: 'acme-foundry', part: { lifecycle: 'part-basic' } },
        'invalid_message',
        /^part\.id: Required$/,
      ],
      ['unknown-part', sold(later), 'part_not_found', /^part "urn:test:sb-later:.*" not found$/],
      ['unknown-participant', startPart(uniqueId(), 'ghost-co'), 'unknown_participant', /^participant: no participant "ghost-co"$/],
      [
        'unknown-lifecycle',
        startPart(uniqueId(), 'acme-foundry', 'no-such-lifecycle'),
        'lifecycle_not_found',
        /^no lifecycle named "no-such-lifecycle"/,
      ],
      [
        'bad-params',
        { ...startPart(uniqueId()), part: { id: uniqueId(), lifecycle: 'part-basic', params: { batch: 7 } } },
        'invalid_params',
        /params\.batch/,
      ],
    ];
    const ids = invalid.map(([name]) => `${name}-${run}`);
    for (const [index, [, body]] of invalid.entries()) await send(QUEUE, ids[index]!, body);

    await until('every invalid message dead-lettered', () => broker.deadLetters(QUEUE).length === invalid.length);
    const dead = await listDeadLetters(bus, QUEUE);
    for (const [index, [, , reason, description]] of invalid.entries()) {
      const letter = dead.find((message) => message.messageId === ids[index]);
      expect(letter, ids[index]).toMatchObject({ reason });
      expect(letter!.description).toMatch(description);
    }
    expect(broker.peek(QUEUE)).toEqual([]);
    expect(await intakeRow(`unknown-part-${run}`)).toMatchObject({ status: 'dead-lettered', reason: 'part_not_found' });

    // The fix: the part now exists and waits for its sale. The message goes back and applies.
    expect((await api.call('POST', '/parts', { id: later, lifecycle: 'part-basic', params: { batch: 'SB-2' } })).status).toBe(201);
    await api.untilPart(later, waitingFor('sold'));
    const resubmitted = await resubmitDeadLetters(bus, QUEUE, [`unknown-part-${run}`]);
    expect(resubmitted.map((message) => message.messageId)).toEqual([`unknown-part-${run}`]);
    expect((await api.untilPart(later, (part) => part.status === 'completed')).owner.id).toBe('northwind-logistics');
    expect(await intakeRow(`unknown-part-${run}`)).toMatchObject({ status: 'applied' });
    expect(broker.deadLetters(QUEUE)).toHaveLength(invalid.length - 1);
  });

  it('gives messages back while Temporal is unreachable and applies them once when it is back', async () => {
    const queue = `intake-outage-${run}`;
    let gate: TcpGate | undefined;
    let connection: Connection | undefined;
    let intake: RunningIntake | undefined;
    let client: ServiceBusClient | undefined;
    try {
      gate = await startTcpGate(inject('temporalAddress'));
      connection = await Connection.connect({ address: gate.address });
      const temporal = new Client({ connection, namespace: 'default' });
      const processor = new IntakeProcessor(
        { ...stack.commands, temporal },
        { commandTimeoutMs: 1_500, retry: { initialMs: 200, maxMs: 1_000 } },
      );
      client = new ServiceBusClient(broker.connectionString);
      intake = startIntake(client, processor, { queue, concurrency: 2 });

      gate.cut();
      const id = uniqueId('urn:test:sb-outage');
      await send(queue, `outage-${id}`, startPart(id));
      await until('the message given back twice', () => (broker.peek(queue)[0]?.deliveryCount ?? 0) >= 2);
      expect((await api.call('GET', `/parts/${id}`)).status).toBe(404);

      gate.restore();
      await api.untilPart(id, waitingFor('sold'), 60_000);
      await until('the queue drained', () => broker.peek(queue).length === 0, 60_000);
      expect(broker.deadLetters(queue)).toEqual([]);
      expect(await intakeRow(`outage-${id}`)).toMatchObject({ status: 'applied', partId: id });
    } finally {
      await intake?.close();
      await client?.close();
      await connection?.close();
      await gate?.close();
    }
  });

  it('dead-letters an event from a participant the lifecycle does not take it from, and the part is untouched', async () => {
    const id = uniqueId('urn:test:sb-authz');
    await send(QUEUE, `start-${id}`, startPart(id));
    await api.untilPart(id, waitingFor('sold'));
    // The buyer reporting its own purchase (issue 20, case 9), as an update and as a signal.
    const taken = [`take-${id}`, `take-signal-${id}`];
    await send(QUEUE, taken[0]!, sold(id, 'northwind-logistics'));
    await send(QUEUE, taken[1]!, { ...sold(id, 'northwind-logistics'), as: 'signal' });
    const ours = async () => (await listDeadLetters(bus, QUEUE)).filter((message) => taken.includes(message.messageId as string));
    const rows = () => Promise.all(taken.map((messageId) => intakeRow(messageId)));
    await until('both dead-lettered', async () => (await rows()).every((row) => row?.status === 'dead-lettered'), 30_000).catch(
      async (error) => {
        throw new Error(`${(error as Error).message}: ${JSON.stringify(await rows())}`);
      },
    );
    await until('both on the dead-letter queue', async () => (await ours()).length === 2);
    const dead = await ours();
    expect(await intakeRow(taken[0]!)).toMatchObject({ status: 'dead-lettered', reason: 'event_not_allowed' });
    for (const letter of dead) {
      expect(letter).toMatchObject({ reason: 'event_not_allowed' });
      expect(letter.description).toBe(
        `participant "northwind-logistics" may not send "sold" to part "${id}": only "acme-foundry" (the part's manufacturer) or an admin or operator may send it`,
      );
    }
    const part = await api.untilPart(id, waitingFor('sold'));
    expect(part.owner.id).toBe('acme-foundry');
    expect(part.ownership).toHaveLength(1);
    const history = await stack.client.workflow.getHandle(id).fetchHistory();
    expect((history.events ?? []).filter((event) => event.workflowExecutionSignaledEventAttributes)).toEqual([]);
  });
});

describe('Service Bus topic', () => {
  it('publishes the ledger events, each with its event id as message id and its type and part as properties', async () => {
    const id = uniqueId('urn:test:sb-topic');
    await send(QUEUE, `start-${id}`, startPart(id));
    await api.untilPart(id, waitingFor('sold'));
    await send(QUEUE, `sold-${id}`, sold(id));
    await api.untilPart(id, (part) => part.status === 'completed');
    const mirrored = (await api.call('GET', `/events?parts=${encodeURIComponent(id)}&after=0`)).body.events;

    const receiver = bus.createReceiver(TOPIC, 'all', { receiveMode: 'receiveAndDelete' });
    const received: ServiceBusReceivedMessage[] = [];
    try {
      await until("the part's events on the topic", async () => {
        received.push(...(await receiver.receiveMessages(200, { maxWaitTimeInMs: 500 })));
        return received.filter((message) => message.applicationProperties?.partId === id).length >= 3;
      });
    } finally {
      await receiver.close();
    }
    const ours = received.filter((message) => message.applicationProperties?.partId === id);
    expect(ours.map((message) => message.messageId)).toEqual(mirrored.map((event: any) => `${event.id}:${event.seq}`));
    expect(ours.map((message) => [message.subject, message.applicationProperties?.eventType])).toEqual([
      ['Transfer', 'Transfer'],
      ['PartRegistered', 'PartRegistered'],
      ['Transfer', 'Transfer'],
    ]);
    expect(ours.map((message) => (message.body as any).seq)).toEqual(mirrored.map((event: any) => event.seq));
    // In sequence order over the whole topic, not only this part's.
    const seqs = received.map((message) => (message.body as any).seq as number);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });
});
