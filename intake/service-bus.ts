// The intake queue on Azure Service Bus: peek-lock receive, apply, then complete, dead-letter (with
// a reason and a description) or abandon for redelivery (after a pause, so an outage does not use
// up the queue's max delivery count in seconds). Also the dead-letter queue: list it, and resubmit
// messages after a fix.
import { setTimeout as delay } from 'node:timers/promises';
import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import type { IntakeProcessor } from './processor.js';

/** A resubmitted message keeps its first id here, so it stays one effect with the original. */
export const ORIGINAL_MESSAGE_ID = 'tracewell-original-message-id';

export interface RunningIntake {
  close(): Promise<void>;
}

export interface IntakeOptions {
  queue: string;
  /** Messages handled at once. */
  concurrency: number;
  log?: (line: string) => void;
}

/** The idempotency key of a received message. */
export function intakeKey(message: ServiceBusReceivedMessage): string {
  const original = message.applicationProperties?.[ORIGINAL_MESSAGE_ID];
  return typeof original === 'string' && original ? original : String(message.messageId);
}

export function startIntake(client: ServiceBusClient, processor: IntakeProcessor, options: IntakeOptions): RunningIntake {
  const { log = () => {} } = options;
  const receiver = client.createReceiver(options.queue, { receiveMode: 'peekLock' });
  const closing = new AbortController();
  const subscription = receiver.subscribe(
    {
      processMessage: async (message) => {
        const key = intakeKey(message);
        const outcome = await processor.handle({ key, body: message.body, deliveryCount: message.deliveryCount ?? 0 });
        switch (outcome.action) {
          case 'complete':
            await receiver.completeMessage(message);
            return;
          case 'dead-letter':
            log(`intake: dead-lettered ${key}: ${outcome.reason}: ${outcome.description}`);
            await receiver.deadLetterMessage(message, { deadLetterReason: outcome.reason, deadLetterErrorDescription: outcome.description });
            return;
          case 'abandon':
            log(`intake: ${key} not applied (${outcome.error}); given back in ${outcome.retryInMs} ms`);
            await delay(outcome.retryInMs, undefined, { signal: closing.signal }).catch(() => undefined);
            await receiver.abandonMessage(message);
        }
      },
      processError: async ({ error, errorSource }) => {
        log(`intake: ${errorSource}: ${error.message.split('\n')[0]}`);
      },
    },
    { autoCompleteMessages: false, maxConcurrentCalls: options.concurrency },
  );
  return {
    async close() {
      closing.abort();
      await subscription.close();
      await receiver.close();
    },
  };
}

export interface DeadLetter {
  messageId: string;
  key: string;
  reason?: string;
  description?: string;
  deliveryCount?: number;
  enqueuedAt?: string;
  body: unknown;
}

function deadLetterOf(message: ServiceBusReceivedMessage): DeadLetter {
  return {
    messageId: String(message.messageId),
    key: intakeKey(message),
    reason: message.deadLetterReason,
    description: message.deadLetterErrorDescription,
    deliveryCount: message.deliveryCount,
    enqueuedAt: message.enqueuedTimeUtc?.toISOString(),
    body: message.body,
  };
}

/** Reads the dead-letter queue (locking each message, then giving it back), at most `max`. */
async function withDeadLetters<T>(client: ServiceBusClient, queue: string, max: number, each: (message: ServiceBusReceivedMessage, receiver: ServiceBusReceiver) => Promise<T | undefined>): Promise<T[]> {
  const receiver = client.createReceiver(queue, { subQueueType: 'deadLetter', receiveMode: 'peekLock' });
  const results: T[] = [];
  const held: ServiceBusReceivedMessage[] = [];
  try {
    while (results.length + held.length < max) {
      const batch = await receiver.receiveMessages(Math.min(100, max - results.length - held.length), { maxWaitTimeInMs: 1_000 });
      if (batch.length === 0) break;
      for (const message of batch) {
        const result = await each(message, receiver);
        if (result === undefined) held.push(message);
        else results.push(result);
      }
    }
    return results;
  } finally {
    for (const message of held) await receiver.abandonMessage(message).catch(() => undefined);
    await receiver.close();
  }
}

export async function listDeadLetters(client: ServiceBusClient, queue: string, max = 1000): Promise<DeadLetter[]> {
  const listed: DeadLetter[] = [];
  await withDeadLetters(client, queue, max, async (message) => {
    listed.push(deadLetterOf(message));
    return undefined;
  });
  return listed;
}

/**
 * Sends dead-lettered messages back to the queue (those whose id is in `ids`, or all) and removes
 * them from the dead-letter queue. The copy gets a new message id (a namespace with duplicate
 * detection would drop the old one) and keeps the original as its idempotency key.
 */
export async function resubmitDeadLetters(client: ServiceBusClient, queue: string, ids: 'all' | string[], max = 1000): Promise<DeadLetter[]> {
  const sender = client.createSender(queue);
  try {
    return await withDeadLetters(client, queue, max, async (message, receiver) => {
      const key = intakeKey(message);
      if (ids !== 'all' && !ids.includes(String(message.messageId)) && !ids.includes(key)) return undefined;
      const { DeadLetterReason: _reason, DeadLetterErrorDescription: _description, ...properties } = message.applicationProperties ?? {};
      await sender.sendMessages({
        body: message.body,
        contentType: message.contentType,
        subject: message.subject,
        messageId: `${key}:resubmitted:${Date.now().toString(36)}`,
        applicationProperties: { ...properties, [ORIGINAL_MESSAGE_ID]: key },
      });
      await receiver.completeMessage(message);
      return deadLetterOf(message);
    });
  } finally {
    await sender.close();
  }
}

