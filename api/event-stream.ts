// Ledger events over HTTP, read-only: a page of events (`GET /events`) and a Server-Sent Events
// stream (`GET /events/stream`) that resumes with Last-Event-ID. SSE never moves a subscription's
// stored cursor: acknowledged, durable delivery is the WebSocket's and the webhooks' job.
import { z } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import { getSubscription } from '../db/event-subscriptions.js';
import type { EventFilter } from '../db/schema.js';
import { cursorOf, eventFilterSchema, eventsAfter, LEDGER_EVENT_NAMES, MAX_SEQ } from '../domain/streams/events.js';
import { KEY_RECHECK_MS, StreamKey } from '../domain/streams/key-revocations.js';
import { MAX_WINDOW } from '../domain/streams/stream-session.js';
import { actingParticipant } from './auth.js';
import type { ApiDeps } from './deps.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { apiRouter, errors, jsonResponse, route } from './openapi.js';

export interface EventStreamOptions {
  /** Query interval when no in-process signal announces new events (default 500 ms). */
  pollMs?: number;
  /** A comment line this often keeps idle streams open through proxies (default 15 s). */
  heartbeatMs?: number;
  /** How often an idle stream asks SQL whether its key still works (default 5 s; always before events go out). */
  keyRecheckMs?: number;
  log?: (line: string) => void;
}

/** Events read per query while a stream catches up. */
const SSE_BATCH = 100;

/** A sequence number in a query or header: digits, small enough to stay an exact number. */
const seqString = z
  .string()
  .regex(/^\d{1,15}$/, 'expected a sequence number')
  .transform(Number)
  .pipe(z.number().max(MAX_SEQ, `at most ${MAX_SEQ}`));

/** `a,b,c` → ['a', 'b', 'c'] (blanks dropped). */
// `?parts=a,b` or `?parts=a&parts=b` (a repeated key arrives as an array).
const csv = z.union([z.string(), z.array(z.string())]).transform((value) =>
  [value]
    .flat()
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter(Boolean),
);

const filterParams = {
  events: csv.optional().openapi({ description: `Event names, comma-separated: ${LEDGER_EVENT_NAMES.join(', ')}` }),
  parts: csv.optional().openapi({ description: 'Only events of these parts, comma-separated' }),
  participant: z.string().optional().openapi({ description: 'Only events this participant takes part in' }),
};

const listQuerySchema = z.object({
  ...filterParams,
  after: seqString.default('0').openapi({ description: 'The sequence number to read after (the `next` of the previous page)' }),
  limit: z
    .string()
    .regex(/^\d{1,4}$/, 'expected a number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(500))
    .default('100')
    .openapi({ description: '1 to 500' }),
});

const streamQuerySchema = z.object({
  ...filterParams,
  subscription: z
    .string()
    .uuid()
    .optional()
    .openapi({ description: 'A durable subscription of yours: its filter, and its stored cursor to start after (SSE never moves it)' }),
  after: z
    .union([z.literal('oldest'), z.literal('newest'), seqString])
    .optional()
    .openapi({ description: '`oldest`, `newest` (default) or a sequence number: the stream starts after it' }),
});

const LedgerEventSchema = z
  .object({
    seq: z
      .number()
      .int()
      .openapi({ description: "The mirror's sequence number: increasing in chain order; what a subscriber acknowledges" }),
    id: z.string().openapi({ description: 'Stable across redeliveries and reorg re-reads: `chainId:txHash:logIndex`' }),
    name: z.string().openapi({ example: 'Transfer' }),
    chainId: z.number().int(),
    contract: z.string(),
    blockNumber: z.number().int(),
    blockHash: z.string(),
    txHash: z.string(),
    logIndex: z.number().int(),
    parts: z.array(z.string()).openapi({ description: 'The parts it concerns' }),
    participants: z.array(z.string()).openapi({ description: 'The participants it concerns' }),
    args: z.record(z.unknown()).openapi({ description: "The log's decoded arguments" }),
    at: z.string().datetime().openapi({ description: "The block's time" }),
    removed: z
      .literal(true)
      .optional()
      .openapi({ description: 'A reorganisation took back the event `removedSeq` (this entry repeats its id and content)' }),
    removedSeq: z.number().int().optional().openapi({ description: 'The sequence number of the event taken back' }),
  })
  .openapi('LedgerEvent');

const EventPageSchema = z
  .object({
    events: z.array(LedgerEventSchema).openapi({ description: 'Oldest first' }),
    next: z.number().int().nullable().openapi({ description: 'The `after` of the next page; null on the last' }),
  })
  .openapi('LedgerEventPage');

const tags = ['Events'];

const routes = {
  list: route({
    method: 'get',
    path: '/',
    tags,
    summary: 'A page of ledger events after a sequence number, oldest first',
    request: { query: listQuerySchema },
    responses: { 200: jsonResponse(EventPageSchema, 'A page of events'), ...errors(400, 401) },
  }),
  stream: route({
    method: 'get',
    path: '/stream',
    tags,
    summary: 'Ledger events as Server-Sent Events, resumable with Last-Event-ID',
    description:
      'Each event is an SSE message: `id` its sequence number, `event` its name, `data` the event as JSON (a LedgerEvent). ' +
      'Comment lines keep an idle stream open. A stream that fails sends an `error` event and ends; reconnect to resume. ' +
      'Revoking the API key ends the stream (an `error` event with code `unauthenticated`), before any later event. ' +
      "SSE never moves a subscription's cursor: for acknowledged delivery use the WebSocket or a webhook.",
    request: {
      query: streamQuerySchema,
      headers: z.object({
        'last-event-id': z.string().optional().openapi({
          description:
            "The id of the last event seen (EventSource sends it on reconnect): resume right after it, over `after` and a subscription's cursor",
        }),
      }),
    },
    responses: {
      200: { description: 'The event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } },
      ...errors([400, 'An invalid query (invalid_query) or Last-Event-ID (invalid_last_event_id)'], 401, [
        404,
        'No such subscription of yours (subscription_not_found)',
      ]),
    },
  }),
};

/** The filter of the query parameters, checked as a subscription's filter is (known event names, sizes). */
function filterOf(query: { events?: string[]; parts?: string[]; participant?: string }): EventFilter {
  const result = eventFilterSchema.safeParse({
    ...(query.events?.length ? { events: query.events } : {}),
    ...(query.parts?.length ? { parts: query.parts } : {}),
    ...(query.participant ? { participant: query.participant } : {}),
  });
  if (!result.success) {
    const issues = result.error.issues.map((issue) => ({ field: String(issue.path[0] ?? '(query)'), message: issue.message }));
    throw new CodedError(Errors.invalid_query, { problems: issues.map((i) => `${i.field}: ${i.message}`).join('; ') }, issues);
  }
  return result.data;
}

const WEBSOCKET_PROTOCOL = [
  'Connect with a WebSocket upgrade, authenticated as any request is (or with `?access_token=`); a refusal is plain HTTP with the error body. Every frame is JSON text.',
  '',
  'Client frames:',
  `- \`{"type": "subscribe", "filter"?: {"events"?, "parts"?, "participant"?}, "start"?: "oldest" | "newest" | seq, "window"?: 1..${MAX_WINDOW}}\`: a stream starting after \`start\` (default \`newest\`).`,
  '- `{"type": "subscribe", "subscription": id}`: a durable WebSocket subscription of yours, with its filter and stored cursor. A new connection takes it over from an older one (closed with 4409).',
  '- `{"type": "ack", "seq": n}`: acknowledges every event up to `n`; for a durable subscription it is stored as the cursor before it counts.',
  '',
  'Server frames:',
  '- `{"type": "subscribed", "subscription": id | null, "cursor": n}`: events after `cursor` follow.',
  '- `{"type": "event", "seq": n, "event": LedgerEvent}`: in sequence order, at least once, at most `window` (default 100) unacknowledged.',
  '- `{"type": "error", "code", "message"}`: e.g. `bad_message`, `already_subscribed`, `subscription_not_found`, `not_subscribed`, `ack_out_of_range`; `internal_error` closes (1011): reconnect to resume.',
  '',
  'One stream per connection. The server pings; a peer that does not answer is dropped. Closes with 1001 on shutdown, and with 1008 when the subscription is deleted or the API key is revoked (after an `unauthenticated` error frame; no event follows the revocation).',
].join('\n');

type EventDeps = Pick<ApiDeps, 'db' | 'ledger' | 'mirrorSignal' | 'keyRevocations'>;
type EventsRouter = ReturnType<typeof apiRouter>;
type SSEStream = Parameters<Parameters<typeof streamSSE>[1]>[0];

/** How the SSE stream paces itself, with its defaults filled in. */
interface StreamPacing {
  pollMs: number;
  heartbeatMs: number;
  keyRecheckMs: number;
  log: (message: string) => void;
}

/** /events: a page of ledger events, the SSE stream, and (documented only) the WebSocket. */
export function eventStreamRoutes(deps: EventDeps, options: EventStreamOptions = {}) {
  const pacing: StreamPacing = {
    pollMs: options.pollMs ?? 500,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    keyRecheckMs: options.keyRecheckMs ?? KEY_RECHECK_MS,
    log: options.log ?? console.error,
  };
  const app = apiRouter();
  documentWebSocket(app);
  listRoute(app, deps);
  streamRoute(app, deps, pacing);
  return app;
}

/** Served beside Hono, on the HTTP server's upgrades (streams/websocket.ts): documented only. */
function documentWebSocket(app: EventsRouter) {
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/ws',
    tags,
    summary:
      'Ledger events over a WebSocket (an upgrade only; a plain GET answers 404): acknowledged, flow-controlled, resumable with a durable subscription',
    description: WEBSOCKET_PROTOCOL,
    request: {
      query: z.object({
        access_token: z
          .string()
          .optional()
          .openapi({ description: 'The API key, for clients that cannot set headers on a WebSocket (browsers)' }),
      }),
    },
    responses: {
      101: { description: 'Switching Protocols: the WebSocket is open' },
      ...errors(401, [503, 'The server is shutting down, or the stream is unavailable; reconnect shortly']),
    },
  });
}

/** One page of events after `after`, oldest first; `next` is the `after` of the following page. */
function listRoute(app: EventsRouter, { db, ledger }: EventDeps) {
  app.openapi(routes.list, async (c) => {
    const query = c.req.valid('query');
    const filter = filterOf(query);
    // One more than asked tells whether another page exists, so the last page says `next: null`.
    const rows = await eventsAfter(db, ledger, filter, query.after, query.limit + 1);
    const events = rows.slice(0, query.limit);
    return c.json({ events, next: rows.length > query.limit ? events[events.length - 1]!.seq : null }, 200);
  });
}

function streamRoute(app: EventsRouter, deps: EventDeps, pacing: StreamPacing) {
  app.openapi(routes.stream, async (c) => {
    const start = await streamStart(deps, actingParticipant(c).id, c.req.valid('query'));
    const cursor = resumeAfter(c.req.valid('header')['last-event-id']) ?? start.cursor;
    const keyId = c.get('apiKeyId');
    return streamSSE(c, (stream) => pumpEvents(stream, deps, pacing, { filter: start.filter, after: cursor, keyId }));
  });
}

/** The filter and cursor a stream starts from: the caller's durable subscription's, or the query's. */
async function streamStart(
  { db, ledger }: EventDeps,
  participantId: string,
  query: z.infer<typeof streamQuerySchema>,
): Promise<{ filter: EventFilter; cursor: number }> {
  if (query.subscription === undefined) return { filter: filterOf(query), cursor: await cursorOf(db, ledger, query.after ?? 'newest') };
  if (query.events || query.parts || query.participant || query.after !== undefined) {
    throw new CodedError(Errors.invalid_query, {
      problems: 'subscription: a subscription brings its own filter and cursor; leave out events, parts, participant and after',
    });
  }
  const subscription = await getSubscription(db, query.subscription);
  if (!subscription || subscription.ownerId !== participantId)
    throw new CodedError(Errors.subscription_not_found, { reason: `you have no subscription ${query.subscription}` });
  return { filter: subscription.filter, cursor: subscription.cursor };
}

/** EventSource sends the id of the last event it saw when it reconnects: resume right after it. */
function resumeAfter(lastEventId: string | undefined): number | undefined {
  if (!lastEventId) return undefined;
  const resumed = seqString.safeParse(lastEventId.trim());
  if (!resumed.success)
    throw new CodedError(Errors.invalid_last_event_id, { problems: 'Last-Event-ID: expected the sequence number of an event' });
  return resumed.data;
}

/**
 * Writes the events after `after` as they arrive, with heartbeats, until the client goes away or
 * the key it was opened with is revoked.
 */
async function pumpEvents(
  stream: SSEStream,
  { db, ledger, mirrorSignal, keyRevocations }: EventDeps,
  pacing: StreamPacing,
  { filter, after, keyId }: { filter: EventFilter; after: number; keyId: number },
) {
  const { pollMs, heartbeatMs, log } = pacing;
  let cursor = after;
  const stopped = new AbortController();
  stream.onAbort(() => stopped.abort());
  // Revoked in this process: the wait below ends at once, and the loop finds the key revoked.
  const key = new StreamKey(db, keyId, keyRevocations, () => stopped.abort(), pacing.keyRecheckMs);
  const revoked = async () => {
    await stream.writeSSE({
      event: 'error',
      data: JSON.stringify({ code: 'unauthenticated', message: 'the API key of this stream was revoked' }),
    });
  };
  try {
    // Sends the headers at once, so the client knows the stream is open before any event.
    await stream.write(`: events after ${cursor}\n\n`);
    let lastWrite = Date.now();
    while (!stopped.signal.aborted) {
      if (!(await key.stillValid(false))) return await revoked();
      const events = await eventsAfter(db, ledger, filter, cursor, SSE_BATCH);
      // The key may have been revoked by another process: asked before anything goes out.
      if (events.length > 0 && !(await key.stillValid(true))) return await revoked();
      for (const event of events) {
        if (stopped.signal.aborted) return;
        // A reorganisation's take-back is its own SSE type, so a listener for the event's name never
        // mistakes it for the event itself.
        await stream.writeSSE({ id: String(event.seq), event: event.removed ? 'removed' : event.name, data: JSON.stringify(event) });
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
    // Stopped by a revocation in this process (not by the client going away): say why.
    if (!(await key.stillValid(false))) await revoked();
  } catch (error) {
    // The client reconnects (EventSource does by itself) and resumes with Last-Event-ID.
    log(`event stream failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    await stream.writeSSE({
      event: 'error',
      data: JSON.stringify({ code: 'internal_error', message: 'the stream failed; reconnect to resume' }),
    });
  } finally {
    key.close();
  }
}
