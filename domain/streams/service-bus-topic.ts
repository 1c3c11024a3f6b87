// Publishes the mirrored ledger events to an Azure Service Bus topic, in order, at least once: the
// message id is the event id and sequence number (chain:tx:logIndex:seq), so a namespace with duplicate detection, or any
// receiver, can drop a repeat; the event type and part id ride as application properties for
// subscription rules, and `removed` marks a reorganisation's take-back of an event sent before. The cursor (last sequence number sent) is kept in SQL per topic.
import { setTimeout as delay } from 'node:timers/promises';
import type { ServiceBusClient, ServiceBusMessage } from '@azure/service-bus';
import { eq, lt } from 'drizzle-orm';
import type { Db } from '../../db/client.js';
import { topicCursors } from '../../db/schema.js';
import type { LedgerRef } from '../mirror/event-log.js';
import { eventsAfter } from './events.js';
import type { StreamEvent } from './events.js';
import type { MirrorSignal } from './mirror-signal.js';

export interface TopicPublisherOptions {
  db: Db;
  ledger: LedgerRef;
  client: ServiceBusClient;
  topic: string;
  signal?: MirrorSignal;
  pollMs?: number;
  /** Events per send. */
  batch?: number;
  /** Backoff after a failed send: doubles from `initialMs` up to `maxMs`. */
  backoff?: { initialMs: number; maxMs: number };
  log?: (line: string) => void;
}

/** The Service Bus message of a ledger event. */
export function topicMessageOf(event: StreamEvent): ServiceBusMessage {
  return {
    // The entry's place in the stream too: a `removed` entry, and an event the new chain brings again
    // after it (same id), are messages of their own that duplicate detection must not drop.
    messageId: `${event.id}:${event.seq}`,
    body: event,
    contentType: 'application/json',
    subject: event.name,
    applicationProperties: {
      eventType: event.name,
      partId: event.parts[0] ?? '',
      parts: event.parts.join(','),
      seq: event.seq,
      blockNumber: event.blockNumber,
      chainId: event.chainId,
      removed: event.removed ?? false,
    },
  };
}

export class TopicPublisher {
  private readonly sender;
  private loop?: Promise<void>;
  private readonly stopping = new AbortController();

  constructor(private readonly options: TopicPublisherOptions) {
    this.sender = options.client.createSender(options.topic);
  }

  /** Sends the events after the cursor (one batch); returns how many. */
  async runOnce(): Promise<number> {
    const { db, ledger, topic } = this.options;
    const [row] = await db.select({ cursor: topicCursors.cursor }).from(topicCursors).where(eq(topicCursors.topic, topic));
    const events = await eventsAfter(db, ledger, {}, row?.cursor ?? 0, this.options.batch ?? 100);
    if (events.length === 0) return 0;
    const batch = await this.sender.createMessageBatch();
    let sent = 0;
    for (const event of events) {
      if (!batch.tryAddMessage(topicMessageOf(event))) break;
      sent += 1;
    }
    // One event too large for a batch of its own still goes, alone.
    if (sent === 0) await this.sender.sendMessages(topicMessageOf(events[0]!));
    else await this.sender.sendMessages(batch);
    const cursor = events[Math.max(sent, 1) - 1]!.seq;
    await db
      .insert(topicCursors)
      .values({ topic, cursor })
      // Never back: another publisher (another listener process) may have sent further.
      .onConflictDoUpdate({
        target: topicCursors.topic,
        set: { cursor, updatedAt: new Date() },
        setWhere: lt(topicCursors.cursor, cursor),
      });
    return Math.max(sent, 1);
  }

  start(): void {
    if (this.loop) return;
    const { pollMs = 1_000, backoff = { initialMs: 500, maxMs: 30_000 }, log = () => {} } = this.options;
    this.loop = (async () => {
      let failures = 0;
      while (!this.stopping.signal.aborted) {
        try {
          const sent = await this.runOnce();
          failures = 0;
          if (sent > 0) continue;
          // An event mirrored between that pass and this wait waits for the next poll at most.
          await (this.options.signal?.wait(pollMs, this.stopping.signal) ??
            delay(pollMs, undefined, { signal: this.stopping.signal }).catch(() => undefined));
        } catch (error) {
          failures += 1;
          const pause = Math.min(backoff.initialMs * 2 ** (failures - 1), backoff.maxMs);
          log(
            `service bus topic ${this.options.topic}: send failed (${failures} in a row), next try in ${pause} ms: ${(error as Error).message.split('\n')[0]}`,
          );
          await delay(pause, undefined, { signal: this.stopping.signal }).catch(() => undefined);
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    await this.sender.close();
  }
}
