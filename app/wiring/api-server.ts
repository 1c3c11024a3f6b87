// Serves the HTTP API for a core and a Temporal client; used by `tracewell dev` and `tracewell api`.
import type { OpsDeps } from '../../domain/commands/decisions.js';
import { finishInterruptedResets } from '../../domain/commands/interrupted-resets.js';
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

export async function serveApi(
  core: Core,
  client: Client,
  temporal: TemporalConfig,
  address: { host: string; port: number; bodyMaxBytes?: number },
  log?: (line: string) => void,
): Promise<RunningApi> {
  const app = createApi(apiDepsOf(core, client, temporal), log, { bodyMaxBytes: address.bodyMaxBytes });
  const resets = finishResetsNowAndThen({ db: core.database.db, temporal: client }, log);
  // WebSocket streams upgrade on the same port as the API.
  const running = await listen(app, address.host, address.port, {
    onServer: (server) =>
      attachEventSocket(server, {
        db: core.database.db,
        ledger: core.listener.ledger,
        mirrorSignal: core.mirrorSignal,
        keyRevocations: core.keyRevocations,
        log,
      }),
  });
  return {
    ...running,
    close: async () => {
      resets.stop();
      await running.close();
    },
  };
}

/** How often resets a crash interrupted are looked for (those recorded longer ago than this). */
const INTERRUPTED_RESET_AFTER_MS = 30_000;

/** Finishes interrupted resets at start and every half minute; a passing outage is tried again next time. */
function finishResetsNowAndThen(ops: OpsDeps, log?: (line: string) => void): { stop(): void } {
  const pass = () =>
    finishInterruptedResets(ops, INTERRUPTED_RESET_AFTER_MS).then(
      ({ finished, withdrawn }) => {
        if (finished.length || withdrawn.length) log?.(`interrupted resets: finished ${finished.length}, withdrawn ${withdrawn.length}`);
      },
      (error: unknown) => log?.(`interrupted resets: ${(error as Error).message} (tried again later)`),
    );
  void pass();
  const timer = setInterval(() => void pass(), INTERRUPTED_RESET_AFTER_MS).unref();
  return { stop: () => clearInterval(timer) };
}
