// Webhook delivery: pushes each webhook subscription's ledger events to its URL, one event per
// signed POST (Standard Webhooks signatures, to public addresses only), in order, at least once. A subscription's cursor moves only when its receiver answers
// 2xx; a failure stops that subscription's pass and retries it later with exponential backoff, until
// `maxFailures` in a row make it dead (an operator or its owner redelivers it). Dispatchers in several
// processes may run at once: each subscription is worked on by one pass at a time, under a lease.
import type { Db } from '../../db/client.js';
import { claimDueWebhook, nextAttemptNumber, pruneDeliveries, releaseWebhook, settleWebhookAttempt } from '../../db/event-subscriptions.js';
import type { AttemptOutcome, NewDelivery, SubscriptionRow, WebhookClaim } from '../../db/event-subscriptions.js';
import type { LedgerRef } from '../mirror/event-log.js';
import { eventsAfter } from './events.js';
import type { StreamEvent } from './events.js';
import type { MirrorSignal } from './mirror-signal.js';
import { SecretBox } from './secret-box.js';
import { webhookHeaders } from './webhook-signature.js';
import { WebhookTargetPolicy, WebhookTargetRefused } from './webhook-targets.js';
import { postWebhook } from './webhook-transport.js';

export { signWebhook, verifyWebhook, webhookHeaders } from './webhook-signature.js';

export interface WebhookBackoff {
  /** The wait after the first failure; it doubles with each further one. */
  initialMs: number;
  maxMs: number;
}

export interface WebhookDispatcherOptions {
  db: Db;
  ledger: LedgerRef;
  /** Wakes the loop when the mirror grows; without it the loop only polls. */
  signal?: MirrorSignal;
  /** Failures in a row after which a subscription is dead (default 8). */
  maxFailures?: number;
  /** Default 1 s doubling up to 5 min, plus up to 10 % jitter. */
  backoff?: WebhookBackoff;
  /** Per request, until the response headers (default 10 s). */
  timeoutMs?: number;
  /** The loop's wait between passes when nothing wakes it (default 1 s). */
  pollMs?: number;
  /** Events per subscription per pass (default 50). */
  batch?: number;
  /** Subscriptions worked on at once by one dispatcher (default 4). */
  concurrency?: number;
  /** Opens the stored (encrypted) secrets; without it no webhook can be signed, so none is sent. */
  secrets?: SecretBox;
  /** Where webhooks may connect (default: public addresses only). */
  targets?: WebhookTargetPolicy;
  /** How long delivery-log rows are kept (default 7 days); pending failures are kept regardless. */
  retentionMs?: number;
  /** How often the loop prunes the delivery log (default 10 min). */
  pruneEveryMs?: number;
  log?: (line: string) => void;
}

/** The body every attempt at one event carries: byte-identical across retries. */
export interface WebhookPayload {
  subscription: string;
  /** `<subscriptionId>:<seq>`: the same for every attempt, for the receiver to deduplicate on. */
  delivery: string;
  event: StreamEvent;
}

/** The wait before retrying after `failures` failures in a row: doubling, capped, with ≤10 % jitter. */
export function retryDelay(failures: number, backoff: WebhookBackoff, random: () => number = Math.random): number {
  const base = Math.min(backoff.initialMs * 2 ** Math.max(0, failures - 1), backoff.maxMs);
  return Math.round(base * (1 + 0.1 * random()));
}

/** The loop's wait after a pass failed (the database is away, say): doubling from `pollMs`, ≤ 1 min. */
const ERROR_PAUSE_MAX_MS = 60_000;

interface AttemptResult {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  /** The dispatcher stopped while the request was in flight. */
  interrupted: boolean;
}

export class WebhookDispatcher {
  private readonly db: Db;
  private readonly ledger: LedgerRef;
  private readonly signal?: MirrorSignal;
  private readonly maxFailures: number;
  private readonly backoff: WebhookBackoff;
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly batch: number;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly secrets?: SecretBox;
  private readonly targets: WebhookTargetPolicy;
  private readonly retentionMs: number;
  private readonly pruneEveryMs: number;
  private lastPrune = 0;
  private readonly log: (line: string) => void;

  private stopping = new AbortController();
  /** Cuts the loop's current wait short. */
  private idle?: AbortController;
  private loop?: Promise<void>;

  constructor(options: WebhookDispatcherOptions) {
    this.db = options.db;
    this.ledger = options.ledger;
    this.signal = options.signal;
    this.maxFailures = options.maxFailures ?? 8;
    this.backoff = options.backoff ?? { initialMs: 1000, maxMs: 300_000 };
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.pollMs = options.pollMs ?? 1000;
    this.batch = options.batch ?? 50;
    this.concurrency = options.concurrency ?? 4;
    // Covers one request and the writes around it; every delivery renews it.
    // Long enough that a slow database never lets a lease lapse mid-pass (two dispatchers, out of order).
    this.leaseMs = Math.max(this.timeoutMs * 2, 30_000);
    this.secrets = options.secrets;
    this.targets = options.targets ?? new WebhookTargetPolicy();
    this.retentionMs = options.retentionMs ?? 7 * 24 * 3_600_000;
    this.pruneEveryMs = options.pruneEveryMs ?? 600_000;
    this.log = options.log ?? ((line) => console.error(line));
    if (this.maxFailures < 1 || this.batch < 1 || this.concurrency < 1)
      throw new RangeError('maxFailures, batch and concurrency must be at least 1');
  }

  /** Starts the delivery loop (once; again only after `stop`). */
  start(): void {
    if (this.loop) throw new Error('the webhook dispatcher is running already');
    this.stopping = new AbortController();
    this.loop = this.run();
  }

  /** Stops the loop and aborts requests in flight; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.idle?.abort();
    await this.loop;
    this.loop = undefined;
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(): Promise<void> {
    let errors = 0;
    while (!this.stopped) {
      // Listening before the pass: a notify that comes during it is not missed.
      const idle = (this.idle = new AbortController());
      const woken = this.signal ? this.signal.wait(this.pollMs, idle.signal) : sleep(this.pollMs, idle.signal);
      try {
        await this.pruneWhenDue();
        // Whoever delivered may have more to deliver: go again at once.
        if ((await this.runOnce()) > 0) idle.abort();
        errors = 0;
      } catch (error) {
        errors += 1;
        const pause = Math.min(this.pollMs * 2 ** errors, ERROR_PAUSE_MAX_MS);
        this.log(`webhooks: delivery pass failed (retrying in ${pause} ms): ${(error as Error).stack ?? error}`);
        idle.abort();
        await sleep(pause, this.stopping.signal);
      }
      await woken;
    }
  }

  /** Prunes the delivery log when `pruneEveryMs` has passed since the last prune. */
  private async pruneWhenDue(): Promise<void> {
    if (Date.now() - this.lastPrune < this.pruneEveryMs) return;
    this.lastPrune = Date.now();
    // A failed prune waits for the next interval: it never holds deliveries up.
    try {
      const pruned = await this.pruneDeliveryLog();
      if (pruned > 0) this.log(`webhooks: pruned ${pruned} delivery-log rows older than ${this.retentionMs} ms`);
    } catch (error) {
      this.log(`webhooks: pruning the delivery log failed: ${(error as Error).stack ?? error}`);
    }
  }

  /** Deletes delivery-log rows past the retention (never a pending failure); the number deleted. */
  pruneDeliveryLog(): Promise<number> {
    return pruneDeliveries(this.db, this.retentionMs);
  }

  /** One pass over the due webhook subscriptions; the number of events delivered. */
  async runOnce(): Promise<number> {
    const claimed: string[] = [];
    let delivered = 0;
    const worker = async () => {
      while (!this.stopped) {
        const claim = await claimDueWebhook(this.db, this.leaseMs, claimed);
        if (!claim) return;
        claimed.push(claim.subscription.id);
        delivered += await this.deliver(claim);
      }
    };
    // Every worker ends before the pass does, so a failed pass never overlaps the next one.
    const results = await Promise.allSettled(Array.from({ length: this.concurrency }, worker));
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    return delivered;
  }

  /** Delivers a claimed subscription's next events in order until one fails; the number delivered. */
  private async deliver({ subscription, lease }: WebhookClaim): Promise<number> {
    const events = await eventsAfter(this.db, this.ledger, subscription.filter, subscription.cursor, this.batch);
    let failures = subscription.failures;
    let delivered = 0;
    for (const event of events) {
      if (this.stopped) break;
      const attempt = await nextAttemptNumber(this.db, subscription.id, event.seq);
      const result = await this.post(subscription, event, attempt);
      const row: NewDelivery = { subscriptionId: subscription.id, eventSeq: event.seq, attempt, ...pick(result) };
      if (result.delivered) {
        delivered += 1;
        failures = 0;
        const renewed = await settleWebhookAttempt(this.db, lease, row, { kind: 'delivered', leaseMs: this.leaseMs });
        // Lost: redelivered, deleted or (after a stall) claimed elsewhere. Whoever holds it goes on.
        if (!renewed) return delivered;
        lease = renewed;
        continue;
      }
      if (result.interrupted) {
        await settleWebhookAttempt(this.db, lease, row, { kind: 'interrupted' });
        return delivered;
      }
      failures += 1;
      const dead = failures >= this.maxFailures;
      const outcome: AttemptOutcome = {
        kind: 'failed',
        failures,
        dead,
        retryInMs: retryDelay(failures, this.backoff),
        lastError: result.error ?? `HTTP ${result.statusCode}`,
      };
      await settleWebhookAttempt(this.db, lease, row, outcome);
      this.log(
        `webhooks: subscription ${subscription.id} (${subscription.name}) event ${event.seq} attempt ${attempt} failed: ${outcome.lastError}${dead ? `; dead after ${failures} failures` : `; retrying in ${outcome.retryInMs} ms`}`,
      );
      return delivered;
    }
    await releaseWebhook(this.db, subscription.id, lease);
    return delivered;
  }

  /** One signed POST of one event; never throws. */
  private async post(subscription: SubscriptionRow, event: StreamEvent, attempt: number): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const failed = (statusCode: number | null, error: string, interrupted = false): AttemptResult => ({
      delivered: false,
      statusCode,
      error,
      durationMs: elapsed(),
      interrupted,
    });
    if (!subscription.url || !subscription.secret) return failed(null, 'the subscription has no url or no secret');
    let secret: string;
    try {
      secret = this.openSecret(subscription.secret);
    } catch (error) {
      return failed(null, (error as Error).message);
    }

    const delivery = `${subscription.id}:${event.seq}`;
    const payload: WebhookPayload = { subscription: subscription.id, delivery, event };
    const body = JSON.stringify(payload);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const status = await postWebhook(this.targets, {
        url: subscription.url,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'tracewell-webhooks',
          // Signed afresh on every attempt: the timestamp is the attempt's, the id the event's.
          ...webhookHeaders(secret, delivery, body),
          'Tracewell-Delivery': delivery,
          'Tracewell-Event': event.name,
          'Tracewell-Attempt': String(attempt),
        },
        body,
        signal: AbortSignal.any([timeout, this.stopping.signal]),
      });
      if (status >= 200 && status < 300)
        return { delivered: true, statusCode: status, error: null, durationMs: elapsed(), interrupted: false };
      // A redirect is a misconfigured URL, not a delivery: following it would re-post elsewhere.
      const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
      return failed(status, `HTTP ${status}${redirect}`);
    } catch (error) {
      if (this.stopped) return failed(null, 'the dispatcher stopped during the request', true);
      if (timeout.aborted) return failed(null, `no answer within ${this.timeoutMs} ms`);
      if (error instanceof WebhookTargetRefused) return failed(null, `refused: ${error.message}`);
      return failed(null, networkError(error));
    }
  }

  /** The plain signing secret of a stored one (sealed; a plain one is from before encryption). */
  private openSecret(stored: string): string {
    if (!SecretBox.isSealed(stored)) return stored;
    if (!this.secrets)
      throw new Error('this process cannot open webhook secrets: set WEBHOOK_SECRETS_KEY (or TRACEWELL_KEYSTORE_PASSPHRASE)');
    return this.secrets.open(stored);
  }
}

function pick(result: AttemptResult): Pick<NewDelivery, 'statusCode' | 'error' | 'durationMs' | 'delivered'> {
  return { statusCode: result.statusCode, error: result.error, durationMs: result.durationMs, delivered: result.delivered };
}

/** The network error's code and message (ECONNREFUSED, ENOTFOUND, TLS, …). */
function networkError(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const detail = message ?? String(error);
  return code && !detail.includes(code) ? `${code}: ${detail}` : detail;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
