// Serves the Hono app on Node's HTTP server.
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import type { Hono } from 'hono';

export interface RunningApi {
  url: string;
  close(): Promise<void>;
}

export function listen(app: Hono, host: string, port: number): Promise<RunningApi> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info) => {
      resolve({
        url: `http://${host}:${info.port}`,
        // Stop accepting, drop idle keep-alive sockets now, and in-flight ones after a grace period,
        // so a stop is never held open by a client.
        close: () =>
          new Promise<void>((done) => {
            const force = setTimeout(() => (server as Server).closeAllConnections(), 2_000);
            server.close(() => {
              clearTimeout(force);
              done();
            });
            (server as Server).closeIdleConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}
