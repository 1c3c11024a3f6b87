// Serves the Hono app on Node's HTTP server.
import { serve } from '@hono/node-server';
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
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
    server.once('error', reject);
  });
}
