// Serves the Hono app on Node's HTTP server.
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

/** Something serving on the HTTP server beside the app (the event WebSocket), closed with it. */
export interface ServerAttachment {
  close(): Promise<void>;
}

export interface ListenOptions {
  /** Called with the HTTP server before it accepts connections, e.g. to take WebSocket upgrades. */
  onServer?: (server: Server) => ServerAttachment | void;
}

export function listen(
  app: { fetch: (request: Request) => Response | Promise<Response> },
  host: string,
  port: number,
  options: ListenOptions = {},
): Promise<RunningApi> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
      resolve({
        url: `http://${host}:${info.port}`,
        // Stop accepting, drop idle keep-alive sockets now, and in-flight ones after a grace period,
        // so a stop is never held open by a client. Upgraded sockets are no longer the HTTP server's
        // to close: their attachment closes them first.
        close: async () => {
          await attachment?.close();
          await new Promise<void>((done) => {
            const force = setTimeout(() => (server as Server).closeAllConnections(), 2_000);
            server.close(() => {
              clearTimeout(force);
              done();
            });
            (server as Server).closeIdleConnections();
          });
        },
      });
    });
    const attachment = options.onServer?.(server as Server) ?? undefined;
    server.once('error', reject);
  });
}
