// One WebSocket connection's event stream: the subscribe/ack protocol, flow control and the delivery
// loop. The transport around it (upgrade, authentication, heartbeat) lives in websocket.ts.
//
// Delivery is at least once and gap-free: events go out in sequence order after a cursor, at most
// `window` of them unacknowledged; an acknowledgement is cumulative, and for a durable subscription
// it is stored (the subscription's cursor) before it counts, so a reconnect resumes right after it.
import type { RawData, WebSocket } from 'ws';
import { z } from 'zod';
import type { Db } from '../../db/client.js';
import { advanceCursor, getSubscription } from '../../db/event-subscriptions.js';
import type { EventFilter } from '../../db/schema.js';
import type { LedgerRef } from '../mirror/event-log.js';
import { cursorOf, eventFilterSchema, eventsAfter, streamStartSchema } from './events.js';
import { StreamKey } from './key-revocations.js';
import type { KeyRevocations } from './key-revocations.js';
import type { MirrorSignal } from './mirror-signal.js';

/** Close code for a connection whose durable subscription another connection took over. */
export const CLOSE_TAKEN_OVER = 4409;
/** Close code (policy violation) for a connection whose API key was revoked. */
export const CLOSE_KEY_REVOKED = 1008;

export interface StreamDeps {
  db: Db;
  ledger: LedgerRef;
  mirrorSignal: MirrorSignal;
  /** Open streams by API key: revoking a key in this process closes its connections at once. */
  keyRevocations: KeyRevocations;
  log?: (line: string) => void;
}

export interface SessionOptions {
  /** How long to wait for new events before querying again when no signal comes (other processes). */
  pollMs: number;
  /** Unacknowledged events in flight, unless the client asks for another window. */
  window: number;
  /** How often an idle connection asks SQL whether its key still works; it always asks before sending events. */
  keyRecheckMs: number;
}

/** Who opened the connection: the participant and the API key it authenticated with. */
export interface SessionCaller {
  participantId: string;
  keyId: number;
}

export const MAX_WINDOW = 1000;

const subscribeSchema = z
  .object({
    type: z.literal('subscribe'),
    subscription: z.string().uuid().optional(),
    filter: eventFilterSchema.optional(),
    start: streamStartSchema.optional(),
    window: z.number().int().min(1).max(MAX_WINDOW).optional(),
  })
  .strict()
  .refine((m) => m.subscription === undefined || (m.filter === undefined && m.start === undefined), {
    message: 'a durable subscription brings its own filter and cursor: send "subscription", or "filter" and "start", not both',
  });

const ackSchema = z.object({ type: z.literal('ack'), seq: z.number().int().min(0) }).strict();

type ServerFrame =
  | { type: 'subscribed'; subscription: string | null; cursor: number }
  | { type: 'event'; seq: number; event: unknown }
  | { type: 'error'; code: string; message: string };

/**
 * Which connection serves each durable subscription: a new connection takes a subscription over
 * from the one before it (a client reconnecting before its dead connection timed out).
 */
export type SubscriptionOwners = Map<string, EventSession>;

/** Wakes the delivery loop on an acknowledgement or close, without losing one that comes between waits. */
class Wakeup {
  private pending = false;
  private kick: AbortController | undefined;

  wake(): void {
    this.pending = true;
    this.kick?.abort();
  }

  /** Until woken, new mirrored rows are announced, or `ms` pass. */
  async wait(signal: MirrorSignal, ms: number): Promise<void> {
    if (!this.pending) {
      this.kick = new AbortController();
      await signal.wait(ms, this.kick.signal);
      this.kick = undefined;
    }
    this.pending = false;
  }
}

export class EventSession {
  private subscribed = false;
  /** Set once the `subscribed` frame is out: from then on events flow and acks count. */
  private streaming = false;
  private closed = false;
  private subscriptionId: string | null = null;
  private filter: EventFilter = {};
  private window: number;
  /** The last sequence number sent: delivery continues after it. */
  private sent = 0;
  /** The last sequence number acknowledged (for a durable subscription, its stored cursor). */
  private acked = 0;
  /** Sent and not yet acknowledged, ascending. */
  private inFlight: number[] = [];
  /** Acknowledgements are stored one after the other, in the order they came. */
  private acks: Promise<void> = Promise.resolve();
  private subscribing: Promise<void> = Promise.resolve();
  private delivery: Promise<void> = Promise.resolve();
  private readonly wakeup = new Wakeup();
  private readonly participantId: string;
  private readonly key: StreamKey;

  constructor(
    private readonly socket: WebSocket,
    caller: SessionCaller,
    private readonly deps: StreamDeps,
    private readonly options: SessionOptions,
    private readonly owners: SubscriptionOwners,
  ) {
    this.participantId = caller.participantId;
    this.window = options.window;
    this.key = new StreamKey(deps.db, caller.keyId, deps.keyRevocations, () => this.keyRevoked(), options.keyRecheckMs);
    const participantId = caller.participantId;
    socket.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    socket.on('close', () => this.shutDown());
    // 'close' follows; the error itself (a peer gone mid-frame, an oversized frame) needs no more.
    socket.on('error', (error) => this.deps.log?.(`event socket of ${participantId}: ${error.message}`));
  }

  /** Closes the connection and waits until its acknowledgements are stored and its loop has ended. */
  async stop(code: number, reason: string): Promise<void> {
    this.socket.close(code, reason);
    this.shutDown();
    await Promise.allSettled([this.subscribing, this.acks, this.delivery]);
  }

  private shutDown(): void {
    if (this.closed) return;
    this.closed = true;
    this.key.close();
    if (this.subscriptionId && this.owners.get(this.subscriptionId) === this) this.owners.delete(this.subscriptionId);
    this.wakeup.wake();
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    // Frames that arrive after a take-over or shutdown belong to a connection that is going away.
    if (this.closed) return;
    if (isBinary) return this.error('bad_message', 'messages are JSON text frames');
    let message: unknown;
    try {
      message = JSON.parse(data.toString());
    } catch {
      return this.error('bad_message', 'the message is not valid JSON');
    }
    const type =
      typeof message === 'object' && message !== null && !Array.isArray(message) ? (message as { type?: unknown }).type : undefined;
    if (type === 'subscribe') {
      // Kept together: a refused second subscribe must not hide the first from stop().
      const subscribing = this.subscribe(message).catch((error: unknown) => this.fail(error));
      this.subscribing = Promise.all([this.subscribing, subscribing]).then(() => {});
      return;
    }
    if (type === 'ack') return this.ack(message);
    this.error(
      'bad_message',
      type === undefined
        ? 'a message is an object with a "type": "subscribe" or "ack"'
        : `unknown message type ${JSON.stringify(type)}; expected "subscribe" or "ack"`,
    );
  }

  private async subscribe(message: unknown): Promise<void> {
    const request = this.parse(subscribeSchema, message);
    if (!request) return;
    if (this.subscribed)
      return this.error('already_subscribed', 'this connection has its stream already; open another connection for another one');
    // Claimed before any await, so a second subscribe on this connection is refused, not raced.
    this.subscribed = true;
    const { db, ledger } = this.deps;
    let cursor: number;
    if (request.subscription !== undefined) {
      const id = request.subscription;
      const row = await getSubscription(db, id);
      if (!row || row.ownerId !== this.participantId || row.kind !== 'websocket') {
        this.subscribed = false;
        return this.error('subscription_not_found', `you have no WebSocket subscription ${id}`);
      }
      if (this.closed) return;
      // Keyed by the stored id, so another spelling of the same UUID takes over too.
      const previous = this.owners.get(row.id);
      this.owners.set(row.id, this);
      this.subscriptionId = row.id;
      // The older connection's acknowledgements are stored before the cursor is read again, so
      // nothing it acknowledged is delivered twice.
      if (previous && previous !== this) await previous.stop(CLOSE_TAKEN_OVER, 'taken over');
      const current = await getSubscription(db, id);
      if (this.closed) return;
      if (!current) {
        this.shutDown();
        this.error('subscription_not_found', `subscription ${id} was deleted`);
        this.socket.close(1008, 'subscription deleted');
        return;
      }
      this.filter = current.filter;
      cursor = current.cursor;
    } else {
      this.filter = request.filter ?? {};
      cursor = await cursorOf(db, ledger, request.start ?? 'newest');
      if (this.closed) return;
    }
    this.window = request.window ?? this.options.window;
    this.sent = cursor;
    this.acked = cursor;
    this.streaming = true;
    this.send({ type: 'subscribed', subscription: this.subscriptionId, cursor });
    this.delivery = this.deliver().catch((error: unknown) => this.fail(error));
  }

  private ack(message: unknown): void {
    const request = this.parse(ackSchema, message);
    if (!request) return;
    if (!this.streaming) return this.error('not_subscribed', 'subscribe before acknowledging');
    const { seq } = request;
    if (seq > this.sent) return this.error('ack_out_of_range', `event ${seq} has not been sent; the last one sent is ${this.sent}`);
    const id = this.subscriptionId;
    this.acks = this.acks
      .then(async () => {
        // An acknowledgement at or below one already stored changes nothing.
        if (seq <= this.acked) return;
        if (id) await advanceCursor(this.deps.db, id, seq);
        this.acked = seq;
        while (this.inFlight.length > 0 && this.inFlight[0]! <= seq) this.inFlight.shift();
        this.wakeup.wake();
      })
      .catch((error: unknown) => this.fail(error));
  }

  private async deliver(): Promise<void> {
    const { db, ledger, mirrorSignal } = this.deps;
    while (!this.closed) {
      const room = this.window - this.inFlight.length;
      if (room > 0) {
        const events = await eventsAfter(db, ledger, this.filter, this.sent, room);
        if (this.closed) return;
        // The key may have been revoked by another process: asked before anything goes out.
        if (events.length > 0 && !(await this.key.stillValid(true))) return this.keyRevoked();
        if (this.closed) return;
        for (const event of events) {
          this.send({ type: 'event', seq: event.seq, event });
          this.inFlight.push(event.seq);
          this.sent = event.seq;
        }
        if (events.length > 0) continue;
      }
      // Caught up, or the window is full: an acknowledgement, a new row or the poll interval wakes us.
      await this.wakeup.wait(mirrorSignal, this.options.pollMs);
      if (!this.closed && !(await this.key.stillValid(false))) return this.keyRevoked();
    }
  }

  /** The connection's API key was revoked: it ends now, with no event after the revocation. */
  private keyRevoked(): void {
    if (this.closed) return;
    this.error('unauthenticated', 'the API key of this connection was revoked');
    this.socket.close(CLOSE_KEY_REVOKED, 'API key revoked');
    this.shutDown();
  }

  private parse<S extends z.ZodTypeAny>(schema: S, message: unknown): z.infer<S> | undefined {
    const result = schema.safeParse(message);
    if (result.success) return result.data;
    this.error('bad_message', result.error.issues.map((issue) => `${issue.path.join('.') || '(message)'}: ${issue.message}`).join('; '));
    return undefined;
  }

  private send(frame: ServerFrame): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(frame));
  }

  private error(code: string, message: string): void {
    this.send({ type: 'error', code, message });
  }

  /** The database failed: close, and let the client reconnect and resume from what is stored. */
  private fail(error: unknown): void {
    this.deps.log?.(
      `event socket of ${this.participantId} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    if (this.closed) return;
    this.error('internal_error', 'the stream failed; reconnect to resume');
    this.socket.close(1011, 'internal error');
    this.shutDown();
  }
}
