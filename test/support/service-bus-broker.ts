// An in-process AMQP 1.0 broker that speaks just enough of Azure Service Bus's dialect for the REAL
// `@azure/service-bus` client to send to queues and topics, receive in peek-lock or
// receive-and-delete mode, complete / abandon / dead-letter, renew locks and read dead-letter queues.
// Tests only: nothing in product code may import it.
//
// Protocol notes (what the SDK does, checked against @azure/service-bus 7.9 and core-amqp 4.4):
// - Every entity use starts with a `$cbs` put-token request. Request/response links ($cbs and
//   `<entity>/$management`) work in pairs: the client attaches a sender to the node and a receiver
//   whose link name is the request's `reply_to`; the answer goes out on that receiver's link with
//   `correlation_id` = the request's `message_id` and `status-code` in the application properties.
// - A receiver in peek-lock mode attaches with rcv-settle-mode "second": its dispositions arrive
//   unsettled and the broker settles them. The SDK resolves `completeMessage()` & co. when the broker
//   settles, and rejects if the settled state carries an error, so a successful settlement always
//   answers `accepted` (never echo a `rejected` outcome back: its error would fail deadLetterMessage()).
// - The lock token is the delivery tag read as a UUID, so tags are 16 random bytes. Management
//   requests send the token back with the first three groups byte-reversed (.NET GUID order).
// - `sendMessages([...])` and batches arrive as message format 0x80013700: an envelope whose data
//   sections each hold one encoded message.
// - `receiveMessages()` drains the remaining credit when it is done; the broker must answer the drain
//   (`set_drained(true)`) or the SDK times out and closes the link.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Server, Socket } from 'node:net';
import rhea from 'rhea';
import type { Connection, Delivery, EventContext, Message, Receiver, Sender, ServerConnectionOptions } from 'rhea';

export interface TestBrokerOptions {
  /** Deliveries after which a message moves to the dead-letter queue (default 10). */
  maxDeliveryCount?: number;
  /** How long a peek-lock delivery stays locked unless renewed (default 30 s). */
  lockDurationMs?: number;
}

/** A message as it sits in an entity, for assertions. */
export interface BrokerMessage {
  body: unknown;
  messageId: string;
  applicationProperties: Record<string, unknown>;
  /** Failed deliveries so far: the `deliveryCount` the next receiver will see. */
  deliveryCount: number;
  /** True while a receiver holds the peek lock. */
  locked: boolean;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
}

export interface TestBroker {
  /** `Endpoint=sb://127.0.0.1:<port>;...;UseDevelopmentEmulator=true` for `new ServiceBusClient(...)`. */
  connectionString: string;
  port: number;
  /** Queues are created on first use (any address). A topic is any name with subscriptions; a
   *  subscription receives copies of what is sent to its topic after it exists. */
  createTopicSubscription(topic: string, subscription: string): void;
  /** Messages in an entity right now (queue, `<topic>/Subscriptions/<name>`, or a `.../$DeadLetterQueue`). */
  peek(entity: string): BrokerMessage[];
  /** Messages in `<entity>/$DeadLetterQueue`. */
  deadLetters(entity: string): BrokerMessage[];
  /** Stops listening and drops every connection abruptly (the namespace going away). Locked
   *  messages are released; queued messages are kept. */
  close(): Promise<void>;
  /** Listens again on the same port, with the same queues. */
  restart(): Promise<void>;
}

const DLQ_SUFFIX = '/$DeadLetterQueue';
const BATCH_FORMAT = 0x80013700;
const LOCK_LOST = 'com.microsoft:message-lock-lost';

interface Lock {
  consumer: Consumer;
  delivery: Delivery;
  token: string; // delivery tag as hex
  until: number;
  timer: NodeJS.Timeout;
}

interface Stored {
  seq: number;
  message: Message; // as sent, without the broker's annotations
  deliveryCount: number;
  enqueuedAt: Date;
  lock?: Lock;
}

interface Entity {
  name: string;
  messages: Stored[]; // in sequence order, locked ones included
  consumers: Consumer[];
  nextConsumer: number; // round robin
  dispatchQueued: boolean;
}

interface Consumer {
  link: Sender;
  entity: Entity;
  peekLock: boolean;
  draining: boolean;
  unsent: Delivery[]; // sent by us but maybe not yet written to the socket (see credit())
}

/** rhea internals the typings leave out. */
interface LinkInternals {
  credit: number;
  local: { attach: { snd_settle_mode?: number; rcv_settle_mode?: number; max_message_size?: number } };
  session: { outgoing: { next_pending_delivery: number } };
}
const internals = (link: Sender | Receiver) => link as unknown as LinkInternals;

/** Delivery outcomes, untyped in rhea's typings. */
interface Outcome {
  described(): unknown;
}
const outcomes = rhea.message as unknown as {
  accepted(): Outcome;
  rejected(fields: { error: { condition: string; description: string } }): Outcome;
};
const decode = (buffer: Buffer) => rhea.message.decode(buffer) as unknown as Message;

/** Credit the consumer can still use: rhea only debits `credit` when it writes the transfer. */
function credit(consumer: Consumer): number {
  const link = internals(consumer.link);
  const written = link.session.outgoing.next_pending_delivery;
  consumer.unsent = consumer.unsent.filter((d) => d.id >= written);
  return link.credit - consumer.unsent.length;
}

/** `sb://host:port/queue` or `queue` -> `queue`. */
function entityName(address: string | undefined): string {
  return (address ?? '').replace(/^[a-z]+:\/\/[^/]+/i, '').replace(/^\/+/, '');
}

/** The SDK's lock tokens swap the byte order of the first three UUID groups. */
function lockTokenKeys(token: Buffer): string[] {
  const t = token;
  const reordered = Buffer.from([t[3]!, t[2]!, t[1]!, t[0]!, t[5]!, t[4]!, t[7]!, t[6]!, ...t.subarray(8)]);
  return [token.toString('hex'), reordered.toString('hex')];
}

function decodeBody(message: Message): unknown {
  const body: unknown = message.body;
  if (body && typeof body === 'object' && 'typecode' in body && 'content' in body) {
    const section = body as { typecode: number; content: unknown };
    if (section.typecode === 0x75 && Buffer.isBuffer(section.content)) {
      try {
        return JSON.parse(section.content.toString('utf8')) as unknown;
      } catch {
        return section.content;
      }
    }
    return section.content;
  }
  return body;
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (Buffer.isBuffer(value) && value.length === 8) return Number(value.readBigInt64BE());
  return Number(value ?? 0);
}

export async function startTestBroker(options: TestBrokerOptions = {}): Promise<TestBroker> {
  const maxDeliveryCount = options.maxDeliveryCount ?? 10;
  const lockDurationMs = options.lockDurationMs ?? 30_000;
  const entities = new Map<string, Entity>();
  const topics = new Map<string, Set<string>>();
  const locks = new Map<string, { entity: Entity; stored: Stored }>();
  const consumers = new Map<Sender, Consumer>();
  const sockets = new Set<Socket>();
  let nextSeq = 1;
  let server: Server | undefined;
  let port = 0;

  const container = rhea.create_container({ id: 'test-service-bus' });

  function entity(name: string): Entity {
    let found = entities.get(name);
    if (!found) {
      found = { name, messages: [], consumers: [], nextConsumer: 0, dispatchQueued: false };
      entities.set(name, found);
      const subscription = /^(.*)\/Subscriptions\/([^/]+)$/.exec(name);
      if (subscription) subscribe(subscription[1]!, subscription[2]!);
    }
    return found;
  }

  function subscribe(topic: string, subscription: string): void {
    const subs = topics.get(topic) ?? new Set<string>();
    topics.set(topic, subs);
    subs.add(subscription);
    entity(`${topic}/Subscriptions/${subscription}`);
  }

  function enqueue(target: Entity, message: Message, deliveryCount = 0): void {
    target.messages.push({ seq: nextSeq++, message, deliveryCount, enqueuedAt: new Date() });
    scheduleDispatch(target);
  }

  function accept(address: string, message: Message): void {
    if (message.message_id === undefined || message.message_id === null) message.message_id = randomUUID();
    const subscriptions = topics.get(address);
    if (!subscriptions) return enqueue(entity(address), message);
    for (const sub of subscriptions) enqueue(entity(`${address}/Subscriptions/${sub}`), { ...message });
  }

  // Deliveries are batched per event-loop turn: rhea reports `sender_flow` before `sender_draining`,
  // so dispatching later lets a drain request be seen before we spend the credit it takes back.
  function scheduleDispatch(target: Entity): void {
    if (target.dispatchQueued) return;
    target.dispatchQueued = true;
    queueMicrotask(() => {
      target.dispatchQueued = false;
      dispatch(target);
    });
  }

  function dispatch(target: Entity): void {
    for (const stored of [...target.messages]) {
      // a copy: receive-and-delete removes as it goes
      if (stored.lock) continue;
      const ready = target.consumers.filter((c) => !c.draining && c.link.is_open() && credit(c) > 0);
      if (ready.length === 0) return;
      const consumer = ready[target.nextConsumer++ % ready.length]!;
      deliver(consumer, stored);
    }
  }

  function wireMessage(stored: Stored, lockedUntil?: number): Message {
    const annotations: Record<string, unknown> = {
      ...stored.message.message_annotations,
      'x-opt-sequence-number': rhea.types.wrap_long(stored.seq),
      'x-opt-enqueued-time': stored.enqueuedAt,
    };
    if (lockedUntil !== undefined) annotations['x-opt-locked-until'] = new Date(lockedUntil);
    return { ...stored.message, delivery_count: stored.deliveryCount, message_annotations: annotations } as Message;
  }

  function deliver(consumer: Consumer, stored: Stored): void {
    const tag = randomBytes(16); // the SDK's lock token
    const until = Date.now() + lockDurationMs;
    const delivery = consumer.link.send(wireMessage(stored, consumer.peekLock ? until : undefined), tag);
    consumer.unsent.push(delivery);
    if (!consumer.peekLock) return remove(consumer.entity, stored); // receive-and-delete: sent settled
    const token = tag.toString('hex');
    const timer = setTimeout(() => release(consumer.entity, stored), lockDurationMs).unref();
    stored.lock = { consumer, delivery, token, until, timer };
    locks.set(token, { entity: consumer.entity, stored });
  }

  function unlock(stored: Stored): void {
    if (!stored.lock) return;
    clearTimeout(stored.lock.timer);
    locks.delete(stored.lock.token);
    delete stored.lock;
  }

  function remove(from: Entity, stored: Stored): void {
    unlock(stored);
    const index = from.messages.indexOf(stored);
    if (index >= 0) from.messages.splice(index, 1);
  }

  /** Abandon, lock expiry, or the receiver going away: the delivery counts as a failed attempt. */
  function release(from: Entity, stored: Stored, annotations?: Record<string, unknown>): void {
    unlock(stored);
    stored.deliveryCount += 1;
    if (annotations) {
      stored.message = { ...stored.message, message_annotations: { ...stored.message.message_annotations, ...annotations } } as Message;
    }
    if (stored.deliveryCount >= maxDeliveryCount && !from.name.endsWith(DLQ_SUFFIX)) {
      const description = `Message could not be consumed after ${maxDeliveryCount} delivery attempts.`;
      return deadLetter(from, stored, 'MaxDeliveryCountExceeded', description);
    }
    scheduleDispatch(from);
  }

  function deadLetter(from: Entity, stored: Stored, reason?: string, description?: string, extra?: Record<string, unknown>): void {
    remove(from, stored);
    const properties: Record<string, unknown> = { ...stored.message.application_properties };
    for (const [key, value] of Object.entries(extra ?? {})) if (value != null) properties[key] = value;
    if (reason != null) properties.DeadLetterReason = reason;
    if (description != null) properties.DeadLetterErrorDescription = description;
    const message = {
      ...stored.message,
      application_properties: properties,
      message_annotations: { ...stored.message.message_annotations, 'x-opt-deadletter-source': from.name },
    } as Message;
    enqueue(entity(from.name + DLQ_SUFFIX), message, stored.deliveryCount);
  }

  /** The receiver's disposition of a delivery we sent (see the settle-mode note at the top). */
  function onOutcome(kind: 'accepted' | 'released' | 'modified' | 'rejected', context: EventContext): void {
    const delivery = context.delivery;
    if (!delivery || !(delivery.link as Sender).is_sender()) return;
    const consumer = consumers.get(delivery.link as Sender);
    if (!consumer || !consumer.peekLock) return;
    if (delivery.settled) return; // already answered
    const held = locks.get(Buffer.from(delivery.tag).toString('hex'));
    if (!held || held.stored.lock?.delivery !== delivery) {
      const error = { condition: LOCK_LOST, description: 'The lock on the message has expired or was released.' };
      return delivery.update(true, outcomes.rejected({ error }).described());
    }
    const state = (delivery.remote_state ?? {}) as {
      undeliverable_here?: boolean;
      message_annotations?: Record<string, unknown>;
      error?: { info?: Record<string, unknown> };
    };
    const { entity: from, stored } = held;
    if (kind === 'accepted') remove(from, stored);
    else if (kind === 'released') release(from, stored);
    else if (kind === 'modified' && !state.undeliverable_here) release(from, stored, state.message_annotations);
    else if (kind === 'modified') {
      // undeliverable_here = defer, which this broker does not implement
      const error = { condition: 'amqp:not-implemented', description: 'Deferral is not supported by the test broker.' };
      return delivery.update(true, outcomes.rejected({ error }).described());
    } else if (from.name.endsWith(DLQ_SUFFIX)) {
      const error = { condition: 'amqp:not-allowed', description: 'Cannot dead-letter a message in a dead-letter queue.' };
      return delivery.update(true, outcomes.rejected({ error }).described());
    } else {
      // deadLetterMessage(): rejected with condition com.microsoft:dead-letter; reason and description in
      // error.info, next to any propertiesToModify.
      const { DeadLetterReason, DeadLetterErrorDescription, ...extra } = state.error?.info ?? {};
      deadLetter(from, stored, DeadLetterReason as string | undefined, DeadLetterErrorDescription as string | undefined, extra);
    }
    delivery.update(true, outcomes.accepted().described());
  }

  function dropConsumer(link: Sender): void {
    const consumer = consumers.get(link);
    if (!consumer) return;
    consumers.delete(link);
    const list = consumer.entity.consumers;
    list.splice(list.indexOf(consumer), 1);
    for (const stored of [...consumer.entity.messages]) {
      if (stored.lock?.consumer === consumer) release(consumer.entity, stored);
    }
  }

  function dropConnection(connection: Connection): void {
    for (const link of [...consumers.keys()]) if (link.connection === connection) dropConsumer(link);
  }

  // ---- $cbs and $management -------------------------------------------------------------------

  function reply(request: Message, connection: Connection, status: number, body?: unknown, condition?: string): void {
    const replyTo = String(request.reply_to ?? '');
    const link = connection.find_sender((l: Sender) => l.name === replyTo || l.target?.address === replyTo);
    if (!link) return;
    const description = status < 300 ? 'OK' : (condition ?? 'error');
    // Both spellings: core-amqp reads `status-code`, the management client's peek reads `statusCode`.
    const properties: Record<string, unknown> = {
      'status-code': status,
      'status-description': description,
      statusCode: status,
      statusDescription: description,
    };
    if (condition) properties['error-condition'] = condition;
    link.send({ correlation_id: request.message_id, to: replyTo, application_properties: properties, body: body ?? null });
  }

  function lockedByToken(tokens: unknown): { entity: Entity; stored: Stored }[] | undefined {
    const found: { entity: Entity; stored: Stored }[] = [];
    for (const token of Array.isArray(tokens) ? tokens : []) {
      const held = lockTokenKeys(Buffer.from(token as Buffer))
        .map((k) => locks.get(k))
        .find(Boolean);
      if (!held) return undefined;
      found.push(held);
    }
    return found;
  }

  function management(address: string, request: Message, connection: Connection): void {
    const operation = String(request.application_properties?.operation ?? '');
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (operation === 'com.microsoft:renew-lock') {
      const held = lockedByToken(body['lock-tokens']);
      if (!held) return reply(request, connection, 410, undefined, LOCK_LOST);
      const expirations = held.map(({ entity: from, stored }) => {
        const lock = stored.lock!;
        clearTimeout(lock.timer);
        lock.until = Date.now() + lockDurationMs;
        lock.timer = setTimeout(() => release(from, stored), lockDurationMs).unref();
        return new Date(lock.until);
      });
      return reply(request, connection, 200, { expirations });
    }
    if (operation === 'com.microsoft:update-disposition') {
      // Used when the receiving link is gone; this broker releases locks with the link, so it mostly answers lock-lost.
      const held = lockedByToken(body['lock-tokens']);
      if (!held) return reply(request, connection, 410, undefined, LOCK_LOST);
      for (const { entity: from, stored } of held) {
        const status = body['disposition-status'];
        if (status === 'completed') remove(from, stored);
        else if (status === 'abandoned') release(from, stored);
        else if (status === 'suspended')
          deadLetter(from, stored, body['deadletter-reason'] as string | undefined, body['deadletter-description'] as string | undefined);
        else return reply(request, connection, 501, undefined, 'amqp:not-implemented');
      }
      return reply(request, connection, 200, {});
    }
    if (operation === 'com.microsoft:peek-message') {
      const from = toNumber(body['from-sequence-number']);
      const count = toNumber(body['message-count']) || 1;
      const messages = entity(address)
        .messages.filter((m) => m.seq >= from)
        .slice(0, count)
        .map((m) => ({ message: rhea.message.encode(wireMessage(m)) }));
      // As Service Bus does: nothing (more) to peek is 204 without a body.
      if (messages.length === 0) return reply(request, connection, 204, undefined);
      return reply(request, connection, 200, { messages });
    }
    reply(request, connection, 501, undefined, 'amqp:not-implemented');
  }

  // ---- links ----------------------------------------------------------------------------------

  // The client attached a receiver: a reply link for $cbs/$management, or a consumer of an entity.
  container.on('sender_open', (context: EventContext) => {
    const link = context.sender!;
    link.set_source(link.source ?? {});
    link.set_target(link.target ?? {});
    const address = entityName(link.source?.address);
    if (address === '$cbs' || address.endsWith('$management')) return;
    const attach = internals(link).local.attach;
    attach.snd_settle_mode = link.snd_settle_mode; // 1 = settled = receive-and-delete
    attach.rcv_settle_mode = link.rcv_settle_mode;
    const consumer: Consumer = { link, entity: entity(address), peekLock: link.snd_settle_mode !== 1, draining: false, unsent: [] };
    consumers.set(link, consumer);
    consumer.entity.consumers.push(consumer);
  });
  container.on('sender_flow', (context: EventContext) => {
    const consumer = consumers.get(context.sender!);
    if (!consumer) return;
    consumer.draining = false;
    scheduleDispatch(consumer.entity);
  });
  container.on('sender_draining', (context: EventContext) => {
    const consumer = consumers.get(context.sender!);
    if (consumer) consumer.draining = true; // give the credit back instead of sending more
    context.sender!.set_drained(true);
  });
  container.on('sendable', (context: EventContext) => {
    const consumer = consumers.get(context.sender!);
    if (consumer) scheduleDispatch(consumer.entity);
  });
  for (const event of ['accepted', 'released', 'modified', 'rejected'] as const) {
    container.on(event, (context: EventContext) => onOutcome(event, context));
  }
  container.on('sender_close', (context: EventContext) => dropConsumer(context.sender!));
  container.on('sender_error', () => undefined);

  // The client attached a sender: to an entity, or the request side of $cbs/$management.
  container.on('receiver_open', (context: EventContext) => {
    const link = context.receiver!;
    link.set_source(link.source ?? {});
    link.set_target(link.target ?? {});
    internals(link).local.attach.max_message_size = 1024 * 1024; // the SDK sizes batches from it
  });
  container.on('receiver_error', () => undefined);
  container.on('message', (context: EventContext) => {
    const link = context.receiver!;
    const delivery = context.delivery!;
    const address = entityName(link.target?.address);
    const raw: unknown = context.message;
    if (address === '$cbs') {
      reply(raw as Message, context.connection, 200); // put-token: any token will do
    } else if (address.endsWith('$management')) {
      management(address.replace(/\/?\$management$/, ''), raw as Message, context.connection);
    } else if (delivery.format === BATCH_FORMAT && Buffer.isBuffer(raw)) {
      const envelope = decode(raw);
      const section = envelope.body as { content: Buffer | Buffer[] };
      const parts = Array.isArray(section.content) ? section.content : [section.content];
      for (const part of parts) accept(address, decode(part));
    } else {
      accept(address, raw as Message);
    }
    delivery.update(true, outcomes.accepted().described());
  });

  // ---- connections ----------------------------------------------------------------------------

  container.on('session_close', (context: EventContext) => {
    for (const link of [...consumers.keys()]) if (link.session === context.session) dropConsumer(link);
  });
  container.on('connection_close', (context: EventContext) => dropConnection(context.connection));
  container.on('disconnected', (context: EventContext) => dropConnection(context.connection));
  container.on('connection_error', () => undefined);
  container.on('protocol_error', () => undefined);
  container.on('error', () => undefined);

  async function listen(onPort: number): Promise<void> {
    // Listen options become the accepted connections' options, which their links inherit. autoaccept
    // off: we settle what clients send ourselves. treat_modified_as_released off: `modified` (abandon,
    // defer) must stay distinguishable from `released`.
    const listenOptions = { host: '127.0.0.1', port: onPort, autoaccept: false, treat_modified_as_released: false };
    const listening = container.listen(listenOptions as ServerConnectionOptions) as Server;
    listening.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      listening.once('listening', resolve);
      listening.once('error', reject);
    });
    const info = listening.address();
    port = typeof info === 'object' && info ? info.port : onPort;
    server = listening;
  }

  function peek(name: string): BrokerMessage[] {
    return (entities.get(entityName(name))?.messages ?? []).map((stored) => {
      const properties = { ...stored.message.application_properties } as Record<string, unknown>;
      const result: BrokerMessage = {
        body: decodeBody(stored.message),
        messageId: String(stored.message.message_id),
        applicationProperties: properties,
        deliveryCount: stored.deliveryCount,
        locked: Boolean(stored.lock),
      };
      if (properties.DeadLetterReason != null) result.deadLetterReason = String(properties.DeadLetterReason);
      if (properties.DeadLetterErrorDescription != null) result.deadLetterErrorDescription = String(properties.DeadLetterErrorDescription);
      return result;
    });
  }

  await listen(0);

  return {
    port,
    connectionString: `Endpoint=sb://127.0.0.1:${port};SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true`,
    createTopicSubscription: subscribe,
    peek,
    deadLetters: (name) => peek(entityName(name) + DLQ_SUFFIX),
    async close() {
      const closing = server;
      server = undefined;
      if (!closing) return;
      for (const link of [...consumers.keys()]) dropConsumer(link);
      // With an error, so rhea sees the socket go (it only listens for 'end' and 'error') and stops
      // the connection's heartbeat timer.
      for (const socket of sockets) socket.destroy(new Error('test broker closed'));
      await new Promise<void>((resolve) => closing.close(() => resolve()));
      // Let clients in this process see the drop before the caller's next step; otherwise an operation
      // started at once goes out on the dead connection and waits for its timeoutInMs before retrying.
      await new Promise((resolve) => setTimeout(resolve, 20));
    },
    async restart() {
      if (!server) await listen(port);
    },
  };
}
