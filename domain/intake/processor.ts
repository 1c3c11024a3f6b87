// Applies one intake message and says what to do with it: complete it (applied, or applied before),
// dead-letter it (it can never be applied: bad JSON, unknown type, schema error, unknown part or
// participant, a refusal), or abandon it for redelivery (Temporal or SQL is down, or the part is not
// there yet). The idempotency key makes a redelivered or duplicated message one effect, twice over:
// SQL remembers applied keys, and each effect is keyed in Temporal by it (the part's workflow id
// with the key in its memo, the update id, the ledger action's workflow id).
import { eq, ne } from 'drizzle-orm';
import type { WorkflowHandle } from '@temporalio/client';
import { attachCertificate } from '../commands/ledger-actions.js';
import type { CommandDeps } from '../commands/deps.js';
import { partCommands } from '../commands/parts.js';
import { describeIfExists } from '../commands/workflow-handles.js';
import { findParticipant } from '../../db/participants.js';
import { intakeMessages } from '../../db/schema.js';
import type { IntakeStatus } from '../../db/schema.js';
import { CodedError, isCoded } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';
import { parseIntakeMessage } from './messages.js';
import type { IntakeMessage } from './messages.js';

/** A received message, as the processor needs it. */
export interface IntakeDelivery {
  /** The idempotency key: the message id, or the original one of a resubmitted message. */
  key: string;
  body: unknown;
  deliveryCount: number;
}

export type IntakeOutcome =
  | { action: 'complete'; duplicate: boolean; result?: Record<string, unknown> }
  | { action: 'dead-letter'; reason: string; description: string }
  | { action: 'abandon'; error: string; retryInMs: number };

export interface IntakeProcessorOptions {
  /** Longest a command may take (Temporal unreachable fails within it). */
  commandTimeoutMs?: number;
  /** Pause before giving a message back after a transient failure: doubles per delivery, up to `maxMs`. */
  retry?: { initialMs: number; maxMs: number };
}

/** Refusals that may pass later, without any change to the message: the part has not reached the step. */
const NOT_YET = [Errors.not_awaiting, Errors.part_not_on_chain];

export class IntakeProcessor {
  private readonly parts;
  private readonly timeoutMs: number;
  private readonly retry: { initialMs: number; maxMs: number };

  constructor(
    private readonly deps: CommandDeps,
    options: IntakeProcessorOptions = {},
  ) {
    this.parts = partCommands(deps);
    this.timeoutMs = options.commandTimeoutMs ?? 15_000;
    this.retry = options.retry ?? { initialMs: 1_000, maxMs: 30_000 };
  }

  async handle(delivery: IntakeDelivery): Promise<IntakeOutcome> {
    let message: IntakeMessage | undefined;
    try {
      message = parseIntakeMessage(delivery.body);
      const status = await this.statusOf(delivery.key);
      if (status === 'applied') return { action: 'complete', duplicate: true };
      const result = await this.deps.temporal.withDeadline(Date.now() + this.timeoutMs, async () => {
        // An earlier delivery got as far as the effect but not its record: if Temporal has the
        // effect under this key, that is the outcome (the checks before the effect may no longer
        // pass because of it, e.g. the event finished the part).
        const earlier = status === 'applying' ? await this.earlierEffect(message!, delivery.key) : undefined;
        if (earlier) return earlier;
        await this.record(delivery.key, message, { status: 'applying' });
        return this.apply(message!, delivery.key);
      });
      await this.record(delivery.key, message, { status: 'applied', result });
      return { action: 'complete', duplicate: false, result };
    } catch (error) {
      const refusal = this.refusalOf(error);
      if (refusal) {
        await this.record(delivery.key, message, { status: 'dead-lettered', ...refusal }).catch(() => undefined);
        return { action: 'dead-letter', ...refusal };
      }
      const retryInMs = Math.min(this.retry.initialMs * 2 ** Math.max(0, delivery.deliveryCount), this.retry.maxMs);
      return { action: 'abandon', error: (error as Error).message.split('\n')[0]!, retryInMs };
    }
  }

  private async apply(message: IntakeMessage, key: string): Promise<Record<string, unknown>> {
    const actor = await findParticipant(this.deps.db, message.participant);
    if (!actor)
      throw new CodedError(Errors.unknown_participant, { field: 'participant', problem: `no participant "${message.participant}"` });
    switch (message.type) {
      case 'start-part':
        try {
          return { ...(await this.parts.start(message.part, actor.id, { intakeMessage: key })) };
        } catch (error) {
          // Started by an earlier delivery of this very message, which did not get to record it.
          if (isCoded(error, Errors.part_exists) && (await this.startedBy(message.part.id)) === key)
            return { id: message.part.id, started: 'earlier' };
          throw error;
        }
      case 'deliver-event':
        if (message.as === 'signal') {
          await this.parts.signal(actor, message.part, message.event, message.payload, `intake:${key}`);
          return { id: message.part, event: message.event, delivered: 'signal' };
        }
        return {
          id: message.part,
          ...(await this.parts.update(actor, message.part, message.event, message.payload, `intake:${key}`)),
          delivered: 'update',
        };
      case 'attach-document':
        return {
          ...(await attachCertificate(
            this.deps,
            actor,
            message.part,
            { document: message.document, validFor: message.validFor },
            `intake:${key}`,
          )),
        };
    }
  }

  /** The effect an earlier delivery of this key made in Temporal, if it is there to find. */
  private async earlierEffect(message: IntakeMessage, key: string): Promise<Record<string, unknown> | undefined> {
    const { temporal } = this.deps;
    switch (message.type) {
      case 'start-part':
        return (await this.startedBy(message.part.id)) === key ? { id: message.part.id, started: 'earlier' } : undefined;
      case 'deliver-event':
        if (message.as === 'signal') return undefined; // the signal's request id makes a second one a no-op
        try {
          const accepted = await temporal.workflow.getHandle(message.part).getUpdateHandle(`intake:${key}`).result();
          return { id: message.part, ...(accepted as Record<string, unknown>), delivered: 'update' };
        } catch {
          return undefined;
        }
      case 'attach-document':
        return undefined; // the ledger action's workflow id is the key: apply() finds its outcome
    }
  }

  /** The intake message that started the part's workflow, if one did. */
  private async startedBy(partId: string): Promise<unknown> {
    const description = await describeIfExists(this.deps.temporal.workflow.getHandle(partId) as WorkflowHandle);
    return description?.memo?.intakeMessage;
  }

  /** A message that can never be applied as it is: its dead-letter reason (the error's catalogue code) and description. */
  private refusalOf(error: unknown): { reason: string; description: string } | undefined {
    if (!isCoded(error) || NOT_YET.some((entry) => entry.code === error.code)) return undefined;
    const details = Array.isArray(error.details)
      ? ` (${(error.details as { field: string; message: string }[]).map((d) => `${d.field}: ${d.message}`).join('; ')})`
      : '';
    return { reason: error.code, description: `${error.message}${details}`.slice(0, 4096) };
  }

  private async statusOf(key: string): Promise<IntakeStatus | undefined> {
    const [row] = await this.deps.db
      .select({ status: intakeMessages.status })
      .from(intakeMessages)
      .where(eq(intakeMessages.messageId, key));
    return row?.status;
  }

  private async record(
    key: string,
    message: IntakeMessage | undefined,
    outcome:
      | { status: 'applying' }
      | { status: 'applied'; result: Record<string, unknown> }
      | { status: 'dead-lettered'; reason: string; description: string },
  ): Promise<void> {
    const partId = message ? (message.type === 'start-part' ? message.part.id : message.part) : null;
    const values = {
      status: outcome.status,
      reason: outcome.status === 'dead-lettered' ? outcome.reason : null,
      description: outcome.status === 'dead-lettered' ? outcome.description.slice(0, 4096) : null,
      result: outcome.status === 'applied' ? outcome.result : null,
      updatedAt: new Date(),
    };
    await this.deps.db
      .insert(intakeMessages)
      .values({ messageId: key, type: message?.type ?? null, partId, participantId: message?.participant ?? null, ...values })
      // An applied key stays applied, whatever a concurrent delivery of it concluded.
      .onConflictDoUpdate({ target: intakeMessages.messageId, set: values, setWhere: ne(intakeMessages.status, 'applied') });
  }
}
