// The ledger listener's loop and what follows it: webhook deliveries and the Service Bus topic. What
// `tracewell listener` runs, and `tracewell dev` alongside the worker and the API.
import type { AppConfig } from '../config/app-config.js';
import type { Db } from '../../db/client.js';
import type { LedgerListener } from '../../domain/mirror/listener.js';
import type { MirrorSignal } from '../../domain/streams/mirror-signal.js';
import { WebhookDispatcher } from '../../domain/streams/webhooks.js';
import type { SecretBox } from '../../domain/streams/secret-box.js';
import { WebhookTargetPolicy } from '../../domain/streams/webhook-targets.js';
import { startEventTopic } from './service-bus.js';

export interface RunningEventServices {
  stop(): Promise<void>;
}

export function startEventServices(
  db: Db,
  listener: LedgerListener,
  signal: MirrorSignal,
  config: AppConfig,
  /** Opens stored webhook secrets; without it (no key in this process's settings) no webhook is signed. */
  webhookSecrets: SecretBox | undefined,
  log?: (line: string) => void,
): RunningEventServices {
  listener.start();
  if (!webhookSecrets)
    (log ?? console.error)('webhooks: no WEBHOOK_SECRETS_KEY or TRACEWELL_KEYSTORE_PASSPHRASE: webhook deliveries fail until one is set');
  const webhooks = new WebhookDispatcher({
    db,
    ledger: listener.ledger,
    signal,
    maxFailures: config.WEBHOOK_MAX_FAILURES,
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    secrets: webhookSecrets,
    targets: new WebhookTargetPolicy(config.WEBHOOK_ALLOWED_NETWORKS),
    retentionMs: config.WEBHOOK_DELIVERY_RETENTION,
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
