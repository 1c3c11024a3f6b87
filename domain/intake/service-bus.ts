// The intake queue on Azure Service Bus: peek-lock receive, apply, then complete, dead-letter (with
// a reason and a description) or abandon for redelivery (after a pause, so an outage does not use
// up the queue's max delivery count in seconds). Also the dead-letter queue: list it, and resubmit
// messages after a fix.
import { setTimeout as delay } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import type { IntakeProcessor } from './processor.js';
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';

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

/** The idempotency key of a received message (undefined for a message without an id). */
export function intakeKey(message: ServiceBusReceivedMessage): string | undefined {
  const original = message.applicationProperties?.[ORIGINAL_MESSAGE_ID];
  if (typeof original === 'string' && original) return original;
  return message.messageId === undefined || message.messageId === '' ? undefined : String(message.messageId);
}

export function startIntake(client: ServiceBusClient, processor: IntakeProcessor, options: IntakeOptions): RunningIntake {
  const { log = () => {} } = options;
  const receiver = client.createReceiver(options.queue, { receiveMode: 'peekLock' });
  const closing = new AbortController();
  const inFlight = new Set<Promise<unknown>>();
  const handle = async (message: ServiceBusReceivedMessage) => {
    const key = intakeKey(message);
    if (key === undefined) {
      // Service Bus gives every message an id; one without is not from a sender we can deduplicate.
      const missing = new CodedError(Errors.missing_message_id);
      await receiver.deadLetterMessage(message, { deadLetterReason: missing.code, deadLetterErrorDescription: missing.message });
      return;
    }
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
  };
  const subscription = receiver.subscribe(
    {
      processMessage: async (message) => {
        const handling = handle(message);
        inFlight.add(handling);
        try {
          await handling;
        } finally {
          inFlight.delete(handling);
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
      // Messages under way settle before the receiver (and then Temporal and SQL) go.
      await Promise.allSettled([...inFlight]);
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
    key: intakeKey(message) ?? '',
    reason: message.deadLetterReason,
    description: message.deadLetterErrorDescription,
    deliveryCount: message.deliveryCount,
    enqueuedAt: message.enqueuedTimeUtc?.toISOString(),
    body: message.body,
  };
}

/** Reads the dead-letter queue (locking each message, then giving it back), at most `max`. */
async function withDeadLetters<T>(
  client: ServiceBusClient,
  queue: string,
  max: number,
  each: (message: ServiceBusReceivedMessage, receiver: ServiceBusReceiver) => Promise<T | undefined>,
): Promise<T[]> {
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

/** The dead-letter queue's messages, peeked (neither locked nor counted as a delivery), at most `max`. */
export async function listDeadLetters(client: ServiceBusClient, queue: string, max = 1000): Promise<DeadLetter[]> {
  const receiver = client.createReceiver(queue, { subQueueType: 'deadLetter' });
  try {
    const listed: DeadLetter[] = [];
    while (listed.length < max) {
      const page = await receiver.peekMessages(Math.min(100, max - listed.length));
      if (page.length === 0) break;
      listed.push(...page.map(deadLetterOf));
    }
    return listed;
  } finally {
    await receiver.close();
  }
}

/**
 * Sends dead-lettered messages back to the queue (those whose id is in `ids`, or all) and removes
 * them from the dead-letter queue. The copy gets a new message id (a namespace with duplicate
 * detection would drop the old one) and keeps the original as its idempotency key.
 */
export async function resubmitDeadLetters(
  client: ServiceBusClient,
  queue: string,
  ids: 'all' | string[],
  max = 1000,
): Promise<DeadLetter[]> {
  const sender = client.createSender(queue);
  try {
    return await withDeadLetters(client, queue, max, async (message, receiver) => {
      const key = intakeKey(message) ?? String(message.messageId);
      if (ids !== 'all' && !ids.includes(String(message.messageId)) && !ids.includes(key)) return undefined;
      const { DeadLetterReason: _reason, DeadLetterErrorDescription: _description, ...properties } = message.applicationProperties ?? {};
      await sender.sendMessages({
        body: message.body,
        contentType: message.contentType,
        subject: message.subject,
        messageId: randomUUID(),
        applicationProperties: { ...properties, [ORIGINAL_MESSAGE_ID]: key },
      });
      await receiver.completeMessage(message);
      return deadLetterOf(message);
    });
  } finally {
    await sender.close();
  }
}
