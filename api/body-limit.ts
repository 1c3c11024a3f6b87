// The size limit of request bodies (JSON, and the YAML or JSON text of a lifecycle), enforced while
// the body streams in: a declared Content-Length over the limit is refused before a byte is read, a
// chunked body as soon as it passes the limit. Without it a body is read whole into memory before
// it is parsed, and a few large ones exhaust the process. Document uploads stream to blob storage
// under their own, larger limit (DOCUMENT_MAX_BYTES, api/documents.ts) and are left to it.
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';

/** The default of API_BODY_MAX_BYTES: 1 MiB, far above any part, event or lifecycle a client sends. */
export const DEFAULT_BODY_MAX_BYTES = 1024 * 1024;

/** The error for a body over `limit` bytes. */
export function bodyTooLarge(limit: number): CodedError {
  return new CodedError(Errors.body_too_large, { limit }, { limit });
}

/** Refuses bodies over `maxBytes` with 413 `body_too_large`, but on the requests `exempt` names. */
export function limitBodies(maxBytes: number, exempt: (c: Context) => boolean): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      // The rest of the body is not wanted: close the connection once answered rather than read it.
      c.header('connection', 'close');
      throw bodyTooLarge(maxBytes);
    },
  });
  return (c, next) => (exempt(c) ? next() : limit(c, next));
}
