// The ledger listener's loop and what follows it: webhook deliveries and the Service Bus topic. What
// `tracewell listener` runs, and `tracewell dev` alongside the worker and the API.
import type { AppConfig } from '../config/app-config.js';
import type { Db } from '../../db/client.js';
import type { LedgerListener } from '../../domain/mirror/listener.js';
import type { MirrorSignal } from '../../domain/streams/mirror-signal.js';
import { WebhookDispatcher } from '../../domain/streams/webhooks.js';
import { startEventTopic } from './service-bus.js';

export interface RunningEventServices {
  stop(): Promise<void>;
}

export function startEventServices(
  db: Db,
  listener: LedgerListener,
  signal: MirrorSignal,
  config: AppConfig,
  log?: (line: string) => void,
): RunningEventServices {
  listener.start();
  const webhooks = new WebhookDispatcher({
    db,
    ledger: listener.ledger,
    signal,
    maxFailures: config.WEBHOOK_MAX_FAILURES,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    log,
  });
  webhooks.start();
  const topic = startEventTopic(config, db, listener.ledger, signal, log);
  return {
    async stop() {
      await topic?.close();
      await webhooks.stop();
      await listener.stop();
    },
  };
}
