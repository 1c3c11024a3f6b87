// A command refused for a reason its caller can fix: the HTTP API answers it with its status and
// code; the Service Bus intake dead-letters the message with the code as its reason.
import type { ContentfulStatusCode } from 'hono/utils/http-status';

export class CommandRefused extends Error {
  override name = 'CommandRefused';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}
