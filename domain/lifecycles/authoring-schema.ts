// The authored lifecycle format, as process engineers write it in YAML or JSON. One zod schema per
// step kind, built from the step-kind registry's parameter shapes, so a validation error can name the
// kind's own fields; the published JSON Schema (lifecycle.schema.json) is generated from the same schemas.
import { z } from 'zod/v4';
import {
  FIELD_TYPES,
  NAME_PATTERN,
  PARTICIPANT_ID_PATTERN,
  PARTICIPANT_ID_RULE,
  PARTICIPANT_ROLES,
  ROLE_RULES,
} from '../../workflows/definition.js';
import { DURATION_PATTERN } from '../../workflows/duration.js';
import { STEP_KIND_REGISTRY } from '../../workflows/step-kinds.js';
import type { StepParamSpec, StepParamType } from '../../workflows/step-kinds.js';

export { DURATION_PATTERN, NAME_PATTERN };
const name = (what: string) => z.string().regex(NAME_PATTERN, `${what}: lowercase letters, digits and dashes, starting with a letter`);
const duration = z.string().regex(DURATION_PATTERN, 'a duration such as 500ms, 30s, 5m, 2h or 7d');
/** A role name; whether it is a known role is checked afterwards, with a suggestion. */
const role = z
  .string()
  .min(1)
  .describe(`a participant role: ${PARTICIPANT_ROLES.join(', ')}`);
/** A literal value or a `${params.x}` / `${stepId.field}` reference. */
const text = z.string().min(1);

export const fieldSpecSchema = z
  .object({
    type: z.enum(FIELD_TYPES),
    required: z.boolean().optional(),
    description: z.string().optional(),
    enum: z
      .array(z.union([z.string(), z.number()]))
      .min(1)
      .optional(),
    min: z.number().optional(),
    max: z.number().optional(),
  })
  .strict();

const fieldSpecsSchema = z.record(z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,62}$/, 'field names: letters, digits and _'), fieldSpecSchema);

/** How one role is bound when a part starts without naming its company (the request's `roles` wins). */
const roleRuleSchema = z
  .object({
    rule: z.enum(ROLE_RULES).optional().describe('caller: the company whose API key starts the part, when it holds the role'),
    default: z
      .string()
      .regex(PARTICIPANT_ID_PATTERN, `a participant id: ${PARTICIPANT_ID_RULE}`)
      .optional()
      .describe('the participant that plays the role when neither the request, a parent part nor the rule binds it'),
  })
  .strict();

const rolesSchema = z
  .record(role, roleRuleSchema)
  .describe(
    "How the roles that steps name without a participant are bound per part. At start, in order: the request's `roles`, the parts it is made from, the rule, the default, the only holder of the role.",
  );

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

/** The zod schema of each registry parameter shape (see StepParamType). */
const PARAM_SCHEMAS: Record<StepParamType, (spec: StepParamSpec) => z.ZodType> = {
  role: () => role,
  text: () => text,
  texts: () => z.union([text, z.array(text).min(1)]),
  name: (spec) => name(spec.what ?? 'name'),
  names: (spec) => z.array(name(spec.what ?? 'name')).min(1),
  duration: () => duration,
  object: () => z.record(z.string(), z.unknown()),
  fields: () => fieldSpecsSchema,
};

function paramSchema(spec: StepParamSpec): z.ZodType {
  const base = PARAM_SCHEMAS[spec.type](spec);
  const optional = spec.optional ? base.optional() : base;
  return spec.description ? optional.describe(spec.description) : optional;
}

type Registry = typeof STEP_KIND_REGISTRY;
/** A kind's parameters, typed from the registry (so compile and validate can read them). */
type ParamValue<S> = S extends { type: 'texts' }
  ? string | string[]
  : S extends { type: 'names' }
    ? string[]
    : S extends { type: 'object' }
      ? Record<string, unknown>
      : S extends { type: 'fields' }
        ? z.infer<typeof fieldSpecsSchema>
        : string;
type Params<P> = { [K in keyof P as P[K] extends { optional: true } ? never : K]: ParamValue<P[K]> } & {
  [K in keyof P as P[K] extends { optional: true } ? K : never]?: ParamValue<P[K]>;
};
type StepOf<K extends keyof Registry> = z.infer<z.ZodObject<typeof commonStepFields>> & { kind: K } & Params<Registry[K]['params']>;

function stepSchema(kind: keyof Registry): z.ZodObject {
  const spec = STEP_KIND_REGISTRY[kind];
  const shape = Object.fromEntries(Object.entries(spec.params).map(([param, paramSpec]) => [param, paramSchema(paramSpec)]));
  return z
    .object({ ...commonStepFields, kind: z.literal(kind), ...shape })
    .strict()
    .describe(spec.description);
}

export const stepSchemas = Object.fromEntries(
  Object.keys(STEP_KIND_REGISTRY).map((kind) => [kind, stepSchema(kind as keyof Registry)]),
) as {
  [K in keyof Registry]: z.ZodType<StepOf<K>> & z.ZodObject;
};

export const lifecycleHeaderSchema = z
  .object({
    $schema: z.string().optional(),
    name: name('lifecycle name'),
    version: z.number().int().min(1).optional().describe('assigned on publish; when given it must be the next or an identical version'),
    description: z.string().optional(),
    params: fieldSpecsSchema.optional().describe('the parameters POST /parts must (or may) give'),
    roles: rolesSchema.optional(),
    steps: z.array(z.record(z.string(), z.unknown())).min(1).max(200),
  })
  .strict();

export type AuthoredStep = { [K in keyof Registry]: StepOf<K> }[keyof Registry];
export type AuthoredLifecycle = Omit<z.infer<typeof lifecycleHeaderSchema>, 'steps'> & { steps: AuthoredStep[] };

/** The whole format as one schema, for the published JSON Schema. */
export function lifecycleDocumentSchema() {
  const steps = Object.values(stepSchemas) as unknown as [z.ZodObject, z.ZodObject, ...z.ZodObject[]];
  return lifecycleHeaderSchema.extend({ steps: z.array(z.discriminatedUnion('kind', steps)).min(1).max(200) });
}
