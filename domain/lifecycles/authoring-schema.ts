// The authored lifecycle format, as process engineers write it in YAML or JSON. One zod schema per
// step kind, so a validation error can name the kind's own fields; the published JSON Schema
// (lifecycles/lifecycle.schema.json) is generated from the same schemas.
import { z } from 'zod/v4';
import { FIELD_TYPES, PARTICIPANT_ROLES } from '../../workflows/definition.js';

export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
const name = (what: string) => z.string().regex(NAME_PATTERN, `${what}: lowercase letters, digits and dashes, starting with a letter`);
export const DURATION_PATTERN = /^\d+(\.\d+)?\s*(ms|s|m|h|d)$/;
const duration = z.string().regex(DURATION_PATTERN, 'a duration such as 500ms, 30s, 5m, 2h or 7d');
/** A role name; whether it is a known role is checked afterwards, with a suggestion. */
const role = z.string().min(1).describe(`a participant role: ${PARTICIPANT_ROLES.join(', ')}`);
/** A literal value or a `${params.x}` / `${stepId.field}` reference. */
const text = z.string().min(1);

export const fieldSpecSchema = z
  .object({
    type: z.enum(FIELD_TYPES),
    required: z.boolean().optional(),
    description: z.string().optional(),
    enum: z.array(z.union([z.string(), z.number()])).min(1).optional(),
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .strict();

const fieldSpecsSchema = z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,62}$/, 'field names: letters, digits and _'), fieldSpecSchema);

const retrySchema = z
  .object({
    initialInterval: duration.optional(),
    backoffCoefficient: z.number().min(1).optional(),
    maximumInterval: duration.optional(),
    maximumAttempts: z.number().int().min(1).optional(),
    nonRetryableErrorCodes: z.array(z.string().min(1)).optional(),
  })
  .strict();

const conditionSchema = z.union([
  z.object({ var: z.string().min(1), equals: z.unknown() }).strict(),
  z.object({ var: z.string().min(1), notEquals: z.unknown() }).strict(),
  z.object({ var: z.string().min(1), in: z.array(z.unknown()).min(1) }).strict(),
  z.object({ var: z.string().min(1), exists: z.boolean() }).strict(),
]);

/** Fields every step may have, whatever its kind. */
const commonStepFields = {
  id: name('step id'),
  description: z.string().optional(),
  when: conditionSchema.optional().describe('run the step only when this holds; otherwise skip to the next one'),
  next: z.string().min(1).optional().describe('the step to go to afterwards (or `end`); default: the next in the list'),
  retry: retrySchema.optional(),
  timeout: duration.optional().describe('per attempt for activity steps; the whole wait for `await`'),
  onFailure: z.enum(['park', 'fail']).optional().describe('park (default): wait for an operator; fail: end the part as failed'),
};

/** Fields every step has beside its kind's own parameters (which compile into `params`). */
export const STEP_COMMON_FIELDS: ReadonlySet<string> = new Set(['kind', ...Object.keys(commonStepFields)]);

const step = <K extends string, S extends z.ZodRawShape>(kind: K, shape: S, description: string) =>
  z.object({ ...commonStepFields, kind: z.literal(kind), ...shape }).strict().describe(description);

/** Where a step sends a token: a role, optionally narrowed to one participant holding it. */
const recipient = {
  to: role,
  participant: text.optional().describe('which participant holding the role (default: the only one)'),
};

export const stepSchemas = {
  mint: step(
    'mint',
    {
      ...recipient,
      metadata: z.record(z.string(), z.unknown()).optional(),
      from: z.union([text, z.array(text).min(1)]).optional().describe('the parts this one is made from (held by the minter, not consumed), e.g. its ore lot'),
    },
    'the first holder registers the part\'s token',
  ),
  transfer: step('transfer', { ...recipient, part: text.optional().describe('another part to move, e.g. the pallet (default: this part)') }, 'move a token to a participant'),
  await: step('await', { event: name('event'), payload: fieldSpecsSchema.optional() }, 'wait for a named signal or update'),
  record: step('record', { event: name('event'), data: z.record(z.string(), z.unknown()).optional() }, 'anchor an event hash on chain'),
  'attach-certificate': step(
    'attach-certificate',
    {
      certificate: name('certificate kind'),
      document: text.describe('the certificate document in the vault: its id or SHA-256 hash, usually a reference such as ${report.document}'),
      issuer: role,
      participant: text.optional().describe('which participant holding the issuer role (default: the only one)'),
      validFor: duration.optional(),
    },
    'the issuer anchors the hash of its signed certificate document (from the vault) on chain',
  ),
  certify: step('certify', { requires: z.array(name('certificate kind')).min(1) }, 'check that certificates of the given kinds are attached, unexpired, issued by an accepted certifier, and that their vault documents verify'),
  bundle: step('bundle', { into: text.describe('the bundle part (e.g. a pallet)') }, 'put this part into a bundle'),
  unbundle: step('unbundle', {}, 'take this part out of its bundle'),
  assemble: step('assemble', { components: z.union([text, z.array(text).min(1)]) }, 'consume parts into this part as its components'),
  decommission: step('decommission', { part: text.optional().describe('another part to take out of circulation (default: this part)') }, 'the holder takes the token out of circulation for good'),
} as const;

export const lifecycleHeaderSchema = z
  .object({
    $schema: z.string().optional(),
    name: name('lifecycle name'),
    version: z.number().int().min(1).optional().describe('assigned on publish; when given it must be the next or an identical version'),
    description: z.string().optional(),
    params: fieldSpecsSchema.optional().describe('the parameters POST /parts must (or may) give'),
    steps: z.array(z.record(z.string(), z.unknown())).min(1).max(200),
  })
  .strict();

export type AuthoredStep = z.infer<(typeof stepSchemas)[keyof typeof stepSchemas]>;
export type AuthoredLifecycle = Omit<z.infer<typeof lifecycleHeaderSchema>, 'steps'> & { steps: AuthoredStep[] };

/** The whole format as one schema, for the published JSON Schema. */
export function lifecycleDocumentSchema() {
  const steps = Object.values(stepSchemas) as unknown as [z.ZodObject, z.ZodObject, ...z.ZodObject[]];
  return lifecycleHeaderSchema.extend({ steps: z.array(z.discriminatedUnion('kind', steps)).min(1).max(200) });
}
