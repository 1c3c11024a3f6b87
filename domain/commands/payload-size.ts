// The size limit of what a command hands to Temporal: a part's params, an event's payload, an
// operator's decision. Temporal refuses a payload over its blob limit (2 MiB on the dev server and
// by default, with a warning from 512 KiB) and a gRPC message over 4 MiB, and every payload stays in
// the part's history for good; so a command over this limit is refused here, with a code that names
// the limit, before anything is started or sent.
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';

/**
 * Largest value a command takes, in bytes of its JSON serialization (UTF-8): 256 KiB, half
 * Temporal's warning size, so the workflow input around it (the compiled lifecycle, roles,
 * policies) stays well under the blob limit too. Documented in docs/api.md ("Body and payload sizes").
 */
export const PAYLOAD_MAX_BYTES = 256 * 1024;

/** Refuses `value` (named `what` in the message, e.g. `params`) when its JSON is over the limit. */
export function requireWithinPayloadLimit(what: string, value: unknown, limit: number = PAYLOAD_MAX_BYTES): void {
  const size = serializedSize(value);
  if (size !== undefined && size > limit)
    throw new CodedError(Errors.payload_too_large, { what, size, limit }, { field: what, size, limit });
}

/** Bytes of `value` as JSON; undefined when it cannot be serialized (too deeply nested), which other checks refuse. */
function serializedSize(value: unknown): number | undefined {
  try {
    const json = JSON.stringify(value);
    return json === undefined ? 0 : Buffer.byteLength(json, 'utf8');
  } catch {
    return undefined;
  }
}
