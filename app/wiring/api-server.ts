// Serves the HTTP API for a core and a Temporal client; used by `tracewell dev` and `tracewell api`.
import type { Client } from '@temporalio/client';
import { createApi } from '../../api/app.js';
import type { ApiDeps } from '../../api/deps.js';
import { listen } from '../../api/server.js';
import type { RunningApi } from '../../api/server.js';
import { attachEventSocket } from '../../domain/streams/websocket.js';
import { commandDepsOf } from './command-deps.js';
import type { TemporalConfig } from '../config/temporal.js';
import type { Core } from './core.js';

/** What the API of a core and a Temporal client uses. */
export function apiDepsOf(core: Core, client: Client, temporal: TemporalConfig): ApiDeps {
  return {
    ...commandDepsOf(core, client, temporal),
    chain: core.chain,
    keys: core.keys,
    documents: core.documents,
    txSender: core.txSender,
    ledger: core.listener.ledger,
    mirrorSignal: core.mirrorSignal,
    webhookSecrets: core.webhookSecrets,
    webhookTargets: core.webhookTargets,
    keyRevocations: core.keyRevocations,
  };
}

export function serveApi(
  core: Core,
  client: Client,
  temporal: TemporalConfig,
  address: { host: string; port: number; bodyMaxBytes?: number },
  log?: (line: string) => void,
): Promise<RunningApi> {
  const app = createApi(apiDepsOf(core, client, temporal), log, { bodyMaxBytes: address.bodyMaxBytes });
  // WebSocket streams upgrade on the same port as the API.
  return listen(app, address.host, address.port, {
    onServer: (server) =>
      attachEventSocket(server, {
        db: core.database.db,
        ledger: core.listener.ledger,
        mirrorSignal: core.mirrorSignal,
        keyRevocations: core.keyRevocations,
        log,
      }),
  });
}
