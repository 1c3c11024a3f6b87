// Webhook signatures after the Standard Webhooks scheme (standardwebhooks.com): three headers,
// `webhook-id`, `webhook-timestamp` (unix seconds of the attempt) and
// `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. The timestamp is signed
// with the body, so a receiver that refuses timestamps outside a window (5 minutes by default)
// cannot be fed a captured request again later; the id is the same on every retry, for
// deduplication. Receivers verify over the bytes they received, before parsing them.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_ID_HEADER = 'webhook-id';
export const WEBHOOK_TIMESTAMP_HEADER = 'webhook-timestamp';
export const WEBHOOK_SIGNATURE_HEADER = 'webhook-signature';

/** The secret prefix of the scheme: what follows is the base64 of the key bytes. */
const SECRET_PREFIX = 'whsec_';
/** The replay window receivers are told to use (and `verifyWebhook`'s default). */
export const DEFAULT_TOLERANCE_SECONDS = 5 * 60;

/** A new signing secret: `whsec_` and the base64 of 32 random bytes (the scheme asks 24 to 64). */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/**
 * The HMAC key of a secret: a `whsec_` secret is base64 of the key bytes (as Standard Webhooks
 * libraries read it); any other secret (chosen by a subscriber) is used as its UTF-8 bytes, which
 * those libraries call the "raw" format.
 */
export function webhookKey(secret: string): Buffer {
  return secret.startsWith(SECRET_PREFIX) ? Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
}

/** The `webhook-signature` value (`v1,<base64>`) of one attempt. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string | Uint8Array): string {
  const hmac = createHmac('sha256', webhookKey(secret)).update(`${id}.${timestamp}.`).update(body);
  return `v1,${hmac.digest('base64')}`;
}

/** The three headers of one attempt at `id`, signed at `now` (ms). */
export function webhookHeaders(secret: string, id: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return {
    [WEBHOOK_ID_HEADER]: id,
    [WEBHOOK_TIMESTAMP_HEADER]: String(timestamp),
    [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret, id, timestamp, body),
  };
}

export type WebhookVerification =
  { ok: true } | { ok: false; reason: 'missing_headers' | 'bad_timestamp' | 'too_old' | 'too_new' | 'no_match' };

/**
 * Checks a received webhook as a receiver should: the three headers present, the timestamp within
 * `toleranceSeconds` of `now`, and one of the (space-separated) `v1` signatures matching, compared
 * in constant time.
 */
export function verifyWebhook(
  secret: string,
  body: string | Uint8Array,
  headers: Record<string, string | string[] | undefined>,
  options: { toleranceSeconds?: number; now?: number } = {},
): WebhookVerification {
  const header = (name: string) => {
    const value = headers[name] ?? headers[name.toLowerCase()];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = header(WEBHOOK_ID_HEADER);
  const stamp = header(WEBHOOK_TIMESTAMP_HEADER);
  const signatures = header(WEBHOOK_SIGNATURE_HEADER);
  if (!id || !stamp || !signatures) return { ok: false, reason: 'missing_headers' };
  if (!/^\d{1,12}$/.test(stamp)) return { ok: false, reason: 'bad_timestamp' };
  const timestamp = Number(stamp);
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (now - timestamp > tolerance) return { ok: false, reason: 'too_old' };
  if (timestamp - now > tolerance) return { ok: false, reason: 'too_new' };
  const expected = Buffer.from(signWebhook(secret, id, timestamp, body));
  const match = signatures
    .split(' ')
    .map((given) => Buffer.from(given.trim()))
    .some((given) => given.length === expected.length && timingSafeEqual(given, expected));
  return match ? { ok: true } : { ok: false, reason: 'no_match' };
}
