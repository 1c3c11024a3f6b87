// The Service Bus intake's messages: JSON bodies, each with a `type` and a `version`, validated with
// zod. Each names the participant it acts for; whoever may send to the queue may act for any
// participant, so the queue's send rights are the trust boundary.
import { z } from 'zod';
import { DURATION_PATTERN } from '../lifecycles/authoring-schema.js';
import { DOCUMENT_ID_PATTERN, PART_ID_PATTERN } from '../../workflows/definition.js';
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';

const partId = z.string().regex(PART_ID_PATTERN, 'a part id: letters, digits and : . _ - (at most 200)');
const participant = z.string().min(1).max(100);

/** Starts a part on the latest (or a given) version of a lifecycle. */
const startPart = z
  .object({
    type: z.literal('start-part'),
    version: z.literal(1),
    participant,
    part: z
      .object({
        id: partId,
        lifecycle: z.string().min(1),
        version: z.number().int().positive().optional(),
        params: z.record(z.unknown()).default({}),
        roles: z.record(z.string()).optional(),
      })
      .strict(),
  })
  .strict();

/**
 * Delivers the event a part's `await` step waits for: as an update (default; refused while the part
 * is not at the step, so the message waits for it), or as a signal (kept by the part when early).
 * Either way Temporal records it once per message id.
 */
const deliverEvent = z
  .object({
    type: z.literal('deliver-event'),
    version: z.literal(1),
    participant,
    part: partId,
    event: z.string().min(1).max(100),
    payload: z.record(z.unknown()).default({}),
    as: z.enum(['update', 'signal']).default('update'),
  })
  .strict();

/** A certifier anchors a certificate document of the vault (by its id) on a part. */
const attachDocument = z
  .object({
    type: z.literal('attach-document'),
    version: z.literal(1),
    participant,
    part: partId,
    document: z.string().regex(DOCUMENT_ID_PATTERN, 'a document id from POST /documents'),
    validFor: z.string().regex(DURATION_PATTERN, 'a duration such as 30d or 12h').optional(),
  })
  .strict();

const SCHEMAS = { 'start-part': startPart, 'deliver-event': deliverEvent, 'attach-document': attachDocument } as const;

export const INTAKE_MESSAGE_TYPES = Object.keys(SCHEMAS) as (keyof typeof SCHEMAS)[];

export type IntakeMessage = z.infer<typeof startPart> | z.infer<typeof deliverEvent> | z.infer<typeof attachDocument>;

/** The body as JSON: the SDK hands over what the sender sent (an object, a string or bytes). */
function jsonOf(body: unknown): unknown {
  if (body instanceof Uint8Array) body = Buffer.from(body).toString('utf8');
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new CodedError(Errors.message_not_json, { problem: (error as Error).message });
  }
}

export function parseIntakeMessage(body: unknown): IntakeMessage {
  const json = jsonOf(body);
  if (!json || typeof json !== 'object' || Array.isArray(json))
    throw new CodedError(Errors.invalid_message, { problems: 'the body must be a JSON object with "type" and "version"' });
  const { type, version } = json as { type?: unknown; version?: unknown };
  const schema = typeof type === 'string' && Object.hasOwn(SCHEMAS, type) ? SCHEMAS[type as keyof typeof SCHEMAS] : undefined;
  if (!schema)
    throw new CodedError(Errors.unknown_message_type, { type: JSON.stringify(type ?? null), types: INTAKE_MESSAGE_TYPES.join(', ') });
  if (version !== 1)
    throw new CodedError(Errors.unsupported_message_version, { version: JSON.stringify(version ?? null), type: String(type) });
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new CodedError(Errors.invalid_message, {
      problems: parsed.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; '),
    });
  }
  return parsed.data;
}
