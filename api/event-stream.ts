// Ledger events over HTTP, read-only: a page of events (`GET /events`) and a Server-Sent Events
// stream (`GET /events/stream`) that resumes with Last-Event-ID. SSE never moves a subscription's
// stored cursor: acknowledged, durable delivery is the WebSocket's and the webhooks' job.
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import { getSubscription } from '../db/event-subscriptions.js';
import type { EventFilter } from '../db/schema.js';
import { cursorOf, eventFilterSchema, eventsAfter, MAX_SEQ } from '../streams/events.js';
import { actingParticipant } from './auth.js';
import type { ApiDeps } from './deps.js';
import { ApiError, readQuery } from './errors.js';

export interface EventStreamOptions {
  /** Query interval when no in-process signal announces new events (default 500 ms). */
  pollMs?: number;
  /** A comment line this often keeps idle streams open through proxies (default 15 s). */
  heartbeatMs?: number;
  log?: (line: string) => void;
}

/** Events read per query while a stream catches up. */
const SSE_BATCH = 100;

/** A sequence number in a query or header: digits, small enough to stay an exact number. */
const seqString = z.string().regex(/^\d{1,15}$/, 'expected a sequence number').transform(Number).pipe(z.number().max(MAX_SEQ, `at most ${MAX_SEQ}`));

/** `a,b,c` → ['a', 'b', 'c'] (blanks dropped). */
const csv = z.string().transform((value) => value.split(',').map((item) => item.trim()).filter(Boolean));

const filterParams = {
  events: csv.optional(),
  parts: csv.optional(),
  participant: z.string().optional(),
};

const listQuerySchema = z.object({
  ...filterParams,
  after: seqString.default('0'),
  limit: z.string().regex(/^\d{1,4}$/, 'expected a number').transform(Number).pipe(z.number().int().min(1).max(500)).default('100'),
});

const streamQuerySchema = z.object({
  ...filterParams,
  subscription: z.string().uuid().optional(),
  after: z.union([z.literal('oldest'), z.literal('newest'), seqString]).optional(),
});

/** The filter of the query parameters, checked as a subscription's filter is (known event names, sizes). */
function filterOf(query: { events?: string[]; parts?: string[]; participant?: string }): EventFilter {
  const result = eventFilterSchema.safeParse({
    ...(query.events?.length ? { events: query.events } : {}),
    ...(query.parts?.length ? { parts: query.parts } : {}),
    ...(query.participant ? { participant: query.participant } : {}),
  });
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({ field: String(issue.path[0] ?? '(query)'), message: issue.message }));
    throw new ApiError(400, 'invalid_query', issues.map((i) => `${i.field}: ${i.message}`).join('; '), issues);
  }
  return result.data;
}

type EventDeps = Pick<ApiDeps, 'db' | 'ledger' | 'mirrorSignal'>;

export function eventStreamRoutes(deps: EventDeps, options: EventStreamOptions = {}): Hono {
  const { db, ledger, mirrorSignal } = deps;
  const pollMs = options.pollMs ?? 500;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const log = options.log ?? console.error;
  const app = new Hono();

  // One page of events after `after`, oldest first; `next` is the `after` of the following page.
  app.get('/', async (c) => {
    const query = readQuery(c, listQuerySchema);
    const filter = filterOf(query);
    // One more than asked tells whether another page exists, so the last page says `next: null`.
    const rows = await eventsAfter(db, ledger, filter, query.after, query.limit + 1);
    const events = rows.slice(0, query.limit);
    return c.json({ events, next: rows.length > query.limit ? events[events.length - 1]!.seq : null });
  });

  app.get('/stream', async (c) => {
    const participant = actingParticipant(c);
    const query = readQuery(c, streamQuerySchema);
    let filter: EventFilter;
    let cursor: number;
    if (query.subscription !== undefined) {
      if (query.events || query.parts || query.participant || query.after !== undefined) {
        throw new ApiError(400, 'invalid_query', 'subscription: a subscription brings its own filter and cursor; leave out events, parts, participant and after');
      }
      const subscription = await getSubscription(db, query.subscription);
      if (!subscription || subscription.ownerId !== participant.id) throw new ApiError(404, 'subscription_not_found', `you have no subscription ${query.subscription}`);
      filter = subscription.filter;
      cursor = subscription.cursor;
    } else {
      filter = filterOf(query);
      cursor = await cursorOf(db, ledger, query.after ?? 'newest');
    }
    // EventSource sends the id of the last event it saw when it reconnects: resume right after it.
    const lastEventId = c.req.header('last-event-id');
    if (lastEventId) {
      const resumed = seqString.safeParse(lastEventId.trim());
      if (!resumed.success) throw new ApiError(400, 'invalid_last_event_id', 'Last-Event-ID: expected the sequence number of an event');
      cursor = resumed.data;
    }

    return streamSSE(c, async (stream) => {
      const stopped = new AbortController();
      stream.onAbort(() => stopped.abort());
      try {
        // Sends the headers at once, so the client knows the stream is open before any event.
        await stream.write(`: events after ${cursor}\n\n`);
        let lastWrite = Date.now();
        while (!stopped.signal.aborted) {
          const events = await eventsAfter(db, ledger, filter, cursor, SSE_BATCH);
          for (const event of events) {
            if (stopped.signal.aborted) return;
            await stream.writeSSE({ id: String(event.seq), event: event.name, data: JSON.stringify(event) });
            cursor = event.seq;
            lastWrite = Date.now();
          }
          if (events.length === SSE_BATCH) continue;
          if (Date.now() - lastWrite >= heartbeatMs) {
            await stream.write(': heartbeat\n\n');
            lastWrite = Date.now();
          }
          await mirrorSignal.wait(Math.max(1, Math.min(pollMs, lastWrite + heartbeatMs - Date.now())), stopped.signal);
        }
      } catch (error) {
        // The client reconnects (EventSource does by itself) and resumes with Last-Event-ID.
        log(`event stream failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        await stream.writeSSE({ event: 'error', data: JSON.stringify({ code: 'internal_error', message: 'the stream failed; reconnect to resume' }) });
      }
    });
  });

  return app;
}
