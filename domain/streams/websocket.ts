// The WebSocket endpoint of the event streams (`/events/ws`), on the API's own HTTP server: the
// `ws` package in noServer mode takes the upgrades that are for it, authenticated with an API key
// before the handshake, and keeps connections honest with pings. The protocol is stream-session.ts.
import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { authenticateApiKey } from '../../db/api-keys.js';
import { KEY_RECHECK_MS } from './key-revocations.js';
import { EventSession, MAX_WINDOW } from './stream-session.js';
import type { StreamDeps, SubscriptionOwners } from './stream-session.js';

export const EVENT_SOCKET_PATH = '/events/ws';

export interface EventSocketOptions {
  /** Query interval when no in-process signal announces new events (default 500 ms). */
  pollMs?: number;
  /** Default unacknowledged events in flight per connection (default 100; a client may ask for 1..1000). */
  window?: number;
  /** Ping interval; a peer that did not answer the previous ping is dropped (default 30 s). */
  heartbeatMs?: number;
  /** How often an idle connection asks SQL whether its key still works (default 5 s; always before events go out). */
  keyRecheckMs?: number;
}

export interface EventSocket {
  /** Stops taking upgrades, closes every connection (1001) once its acknowledgements are stored. */
  close(): Promise<void>;
}

/** A subscribing client is told why it is refused before any WebSocket exists: plain HTTP. */
function refuse(socket: Duplex, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code, message } });
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.once('finish', () => socket.destroy());
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
}

/**
 * The key as the REST API takes it (`Authorization: Bearer`, `X-Api-Key`), or `?access_token=`,
 * because browsers cannot set headers on a WebSocket. `null`: a malformed Authorization header.
 */
function presentedKey(request: IncomingMessage, url: URL): string | null | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) return /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? null;
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey) return apiKey;
  return url.searchParams.get('access_token') || undefined;
}

type Authenticated = NonNullable<Awaited<ReturnType<typeof authenticateApiKey>>>;

/**
 * The participant an upgrade request speaks for (and its key's id), or nothing once the request has
 * been refused (or its client has gone).
 */
async function authenticateUpgrade(
  request: IncomingMessage,
  socket: Duplex,
  deps: StreamDeps,
  closing: () => boolean,
): Promise<Authenticated | void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname !== EVENT_SOCKET_PATH)
    return refuse(socket, 404, 'not_found', `no WebSocket endpoint at ${url.pathname}; event streams are at ${EVENT_SOCKET_PATH}`);
  if (closing()) return refuse(socket, 503, 'shutting_down', 'the server is shutting down; reconnect shortly');
  const key = presentedKey(request, url);
  if (key === null)
    return refuse(socket, 401, 'unauthenticated', 'Authorization: expected "Bearer <api key>"', { 'WWW-Authenticate': 'Bearer' });
  if (!key)
    return refuse(socket, 401, 'unauthenticated', 'an API key is required: send "Authorization: Bearer <api key>" or ?access_token=', {
      'WWW-Authenticate': 'Bearer',
    });
  const authenticated = await authenticateApiKey(deps.db, key);
  if (!authenticated)
    return refuse(socket, 401, 'unauthenticated', 'the API key is not valid (unknown or revoked)', { 'WWW-Authenticate': 'Bearer' });
  // The client may have gone, or the server begun to close, while the key was looked up.
  if (socket.destroyed) return;
  if (closing()) return refuse(socket, 503, 'shutting_down', 'the server is shutting down; reconnect shortly');
  return authenticated;
}

/** A peer that has not answered the last ping is gone (a dropped network does not close TCP). */
function startHeartbeat(wss: WebSocketServer, alive: WeakMap<WebSocket, boolean>, heartbeatMs: number): NodeJS.Timeout {
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (!alive.get(ws)) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, heartbeatMs);
  heartbeat.unref();
  return heartbeat;
}

/** Gives peers a moment to answer the close frame, then drops those that do not. */
async function awaitClientsClosed(wss: WebSocketServer): Promise<void> {
  await Promise.all(
    [...wss.clients].map(
      (ws) =>
        new Promise<void>((done) => {
          if (ws.readyState === ws.CLOSED) return done();
          const force = setTimeout(() => ws.terminate(), 1_000);
          ws.once('close', () => {
            clearTimeout(force);
            done();
          });
        }),
    ),
  );
}

export function attachEventSocket(server: Server, deps: StreamDeps, options: EventSocketOptions = {}): EventSocket {
  const pollMs = options.pollMs ?? 500;
  const window = Math.min(Math.max(options.window ?? 100, 1), MAX_WINDOW);
  const keyRecheckMs = options.keyRecheckMs ?? KEY_RECHECK_MS;
  // Client frames are small JSON (subscribe, ack); anything big is a mistake or an attack.
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  const owners: SubscriptionOwners = new Map();
  const sessions = new Set<EventSession>();
  const alive = new WeakMap<WebSocket, boolean>();
  let closing = false;

  async function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const authenticated = await authenticateUpgrade(request, socket, deps, () => closing);
    if (!authenticated) return;
    const { participant, keyId } = authenticated;
    wss.handleUpgrade(request, socket, head, (ws) => {
      alive.set(ws, true);
      ws.on('pong', () => alive.set(ws, true));
      const session = new EventSession(ws, { participantId: participant.id, keyId }, deps, { pollMs, window, keyRecheckMs }, owners);
      sessions.add(session);
      ws.on('close', () => sessions.delete(session));
    });
  }

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // A peer that resets mid-handshake must not take the process down with an unhandled 'error'.
    socket.on('error', () => {});
    upgrade(request, socket, head).catch((error: unknown) => {
      deps.log?.(`event socket upgrade failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!socket.destroyed) refuse(socket, 503, 'unavailable', 'the event stream is unavailable; try again later');
    });
  };
  server.on('upgrade', onUpgrade);
  const heartbeat = startHeartbeat(wss, alive, options.heartbeatMs ?? 30_000);

  return {
    async close() {
      if (closing) return;
      closing = true;
      clearInterval(heartbeat);
      server.off('upgrade', onUpgrade);
      await Promise.all([...sessions].map((session) => session.stop(1001, 'server shutting down')));
      await awaitClientsClosed(wss);
      await new Promise<void>((done) => wss.close(() => done()));
    },
  };
}
