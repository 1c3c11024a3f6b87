// Azure Service Bus, when SERVICE_BUS_CONNECTION_STRING is set: the intake queue (run by `tracewell
// intake`, and by `dev`) and the topic the ledger events are published to (run with the listener).
import { ServiceBusClient } from '@azure/service-bus';
import type { AppConfig } from '../config/app-config.js';
import type { CommandDeps } from '../../domain/commands/deps.js';
import type { Db } from '../../db/client.js';
import type { LedgerRef } from '../../domain/mirror/event-log.js';
import { IntakeProcessor } from '../../domain/intake/processor.js';
import { startIntake } from '../../domain/intake/service-bus.js';
import type { MirrorSignal } from '../../domain/streams/mirror-signal.js';
import { TopicPublisher } from '../../domain/streams/service-bus-topic.js';

export interface RunningServiceBus {
  close(): Promise<void>;
}

/** The intake on the configured queue; undefined without a connection string. */
export function startServiceBusIntake(config: AppConfig, deps: CommandDeps, log?: (line: string) => void): RunningServiceBus | undefined {
  if (!config.SERVICE_BUS_CONNECTION_STRING) return undefined;
  const client = new ServiceBusClient(config.SERVICE_BUS_CONNECTION_STRING);
  const intake = startIntake(client, new IntakeProcessor(deps), {
    queue: config.SERVICE_BUS_INTAKE_QUEUE,
    concurrency: config.SERVICE_BUS_INTAKE_CONCURRENCY,
    log,
  });
  log?.(`service bus intake receiving from ${config.SERVICE_BUS_INTAKE_QUEUE}`);
  return {
    async close() {
      await intake.close();
      await client.close();
    },
  };
}

/** The ledger-event topic publisher; undefined without a connection string, or with the topic `off`. */
export function startEventTopic(
  config: AppConfig,
  db: Db,
  ledger: LedgerRef,
  signal: MirrorSignal,
  log?: (line: string) => void,
): RunningServiceBus | undefined {
  if (!config.SERVICE_BUS_CONNECTION_STRING || config.SERVICE_BUS_EVENTS_TOPIC === 'off') return undefined;
  const client = new ServiceBusClient(config.SERVICE_BUS_CONNECTION_STRING);
  const publisher = new TopicPublisher({ db, ledger, client, topic: config.SERVICE_BUS_EVENTS_TOPIC, signal, log });
  publisher.start();
  log?.(`ledger events published to service bus topic ${config.SERVICE_BUS_EVENTS_TOPIC}`);
  return {
    async close() {
      await publisher.stop();
      await client.close();
    },
  };
}
