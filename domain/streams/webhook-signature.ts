// The webhook signature: an HMAC-SHA256 of the raw request body under the subscription's secret,
// sent as `Tracewell-Signature: sha256=<hex>`. Receivers verify it over the bytes they received,
// before parsing them.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Tracewell-Signature';

/** The `Tracewell-Signature` value of `body` under `secret`. */
export function signWebhookBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Whether `header` is the signature of `body` under `secret` (compared in constant time). */
export function verifyWebhookSignature(secret: string, body: string | Uint8Array, header: string | null | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signWebhookBody(secret, body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}
