// The compiled form of a lifecycle definition, as the interpreter runs it, and the pure helpers the
// workflow and the API share: field checks for params and event payloads, `${...}` references and
// `when` conditions. No I/O and no Node built-ins: this file is bundled into the workflow sandbox.

import type { LifecycleStepKind } from './step-kinds.js';

export { STEP_KINDS } from './step-kinds.js';
export type { LifecycleStepKind } from './step-kinds.js';

/** The participant roles a definition may name (DESIGN.md's vocabulary). */
export const PARTICIPANT_ROLES = ['miner', 'manufacturer', 'distributor', 'retailer', 'certifier'] as const;
export type ParticipantRole = (typeof PARTICIPANT_ROLES)[number];

export const FIELD_TYPES = ['string', 'number', 'integer', 'boolean', 'participant', 'part', 'parts', 'hash', 'document'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** A declared value: a part's start parameter or a field of an `await` step's payload. */
export interface FieldSpec {
  type: FieldType;
  required: boolean;
  description?: string;
  enum?: (string | number)[];
  min?: number;
  max?: number;
}

export type FieldSpecs = Record<string, FieldSpec>;

export interface RetrySpec {
  initialIntervalMs?: number;
  backoffCoefficient?: number;
  maximumIntervalMs?: number;
  maximumAttempts?: number;
  nonRetryableErrorCodes?: string[];
}

export type Condition =
  | { var: string; equals: unknown }
  | { var: string; notEquals: unknown }
  | { var: string; in: unknown[] }
  | { var: string; exists: boolean };

/** What every compiled step has; `params` holds the kind's own parameters, still with `${...}` refs. */
export interface CompiledStep {
  id: string;
  kind: LifecycleStepKind;
  params: Record<string, unknown>;
  when?: Condition;
  /** Where to go after the step: a step id, or `end`. Default: the next step in the list. */
  next?: string;
  retry?: RetrySpec;
  timeoutMs?: number;
  onFailure: 'park' | 'fail';
}

/** How a role a step names is bound to a company when a part starts, beside the start request. */
export const ROLE_RULES = ['caller'] as const;
export type RoleRuleName = (typeof ROLE_RULES)[number];

export interface RoleRule {
  /** `caller`: the company whose key starts the part, when it holds the role. */
  rule?: RoleRuleName;
  /** The participant that plays the role when nothing else binds it. */
  default?: string;
}

export interface CompiledLifecycle {
  name: string;
  version: number;
  /** SHA-256 of the canonical authored content (without the version). */
  contentHash: string;
  description?: string;
  params: FieldSpecs;
  /** Per role: the rule and default that bind it at start (absent in definitions that declare none). */
  roles?: Record<string, RoleRule>;
  steps: CompiledStep[];
}

export const END = 'end';

export type Variables = Record<string, unknown>;

/** Step ids, event names, certificate kinds, lifecycle names. */
export const NAME_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
/** A 32-byte hash as 0x-prefixed hex (document hashes, anchored event hashes). */
export const HASH_PATTERN = /^0x[0-9a-fA-F]{64}$/;
/** GS1-style URNs and plain ids: no slashes or spaces, so the id is safe in a URL path. */
export const PART_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$/;
export const PARTICIPANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,62}$/;
/** PARTICIPANT_ID_PATTERN in words, for the refusals that enforce it. */
export const PARTICIPANT_ID_RULE = '2 to 63 characters: lowercase letters, digits and hyphens, starting with a letter or digit';
/** A document in the vault: its id (a UUID) or its content hash. */
export const DOCUMENT_ID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export const isDocumentReference = (value: string): boolean => DOCUMENT_ID_PATTERN.test(value) || HASH_PATTERN.test(value);

export interface FieldProblem {
  field: string;
  message: string;
}

function checkValue(spec: FieldSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') return 'expected a string';
      break;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return 'expected a number';
      break;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return 'expected an integer';
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return 'expected true or false';
      break;
    case 'participant':
      if (typeof value !== 'string' || !PARTICIPANT_ID_PATTERN.test(value)) return 'expected a participant id';
      break;
    case 'part':
      if (typeof value !== 'string' || !PART_ID_PATTERN.test(value)) return 'expected a part id';
      break;
    case 'parts':
      if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && PART_ID_PATTERN.test(v))) {
        return 'expected a non-empty list of part ids';
      }
      if (new Set(value).size !== value.length) return 'lists a part twice';
      break;
    case 'hash':
      if (typeof value !== 'string' || !HASH_PATTERN.test(value)) return 'expected a 0x-prefixed 32-byte hex hash';
      break;
    case 'document':
      if (typeof value !== 'string' || !isDocumentReference(value)) return 'expected a document id or its 0x-prefixed SHA-256 hash';
      break;
  }
  if (spec.enum && !spec.enum.includes(value as string | number))
    return `expected one of ${spec.enum.map((v) => JSON.stringify(v)).join(', ')}`;
  if (typeof value === 'number') {
    if (spec.min !== undefined && value < spec.min) return `must be at least ${spec.min}`;
    if (spec.max !== undefined && value > spec.max) return `must be at most ${spec.max}`;
  }
  if (typeof value === 'string' && spec.type === 'string') {
    if (spec.min !== undefined && value.length < spec.min) return `must be at least ${spec.min} characters`;
    if (spec.max !== undefined && value.length > spec.max) return `must be at most ${spec.max} characters`;
  }
  return undefined;
}

/** Checks a params object or an event payload against its declared fields; [] when it is fine. */
export function checkFields(specs: FieldSpecs, value: unknown): FieldProblem[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [{ field: '(body)', message: 'expected an object' }];
  const record = value as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  for (const [name, spec] of Object.entries(specs)) {
    if (record[name] === undefined) {
      if (spec.required) problems.push({ field: name, message: 'required' });
      continue;
    }
    const message = checkValue(spec, record[name]);
    if (message) problems.push({ field: name, message });
  }
  for (const name of Object.keys(record)) {
    if (!(name in specs)) problems.push({ field: name, message: `not declared (declared: ${Object.keys(specs).join(', ') || 'none'})` });
  }
  return problems;
}

/** Every `${path}` reference in a string, e.g. `lot-${params.lot}` → ['params.lot']. */
export function referencesIn(text: string): string[] {
  return [...text.matchAll(/\$\{([^}]*)\}/g)].map((match) => match[1]!.trim());
}

/** The value at a dotted path (`params.pallet`, `inspect.passed`), or undefined. */
export function lookup(variables: Variables, path: string): unknown {
  let value: unknown = variables;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export class UnresolvedReferenceError extends Error {
  override name = 'UnresolvedReference';
}

/**
 * Replaces references in a step parameter. A string that is exactly one `${path}` becomes the
 * value itself (so lists and numbers keep their type); references inside longer strings are
 * interpolated. Objects and arrays are resolved member by member.
 */
export function resolveValue(value: unknown, variables: Variables): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^}]*)\}$/.exec(value);
    if (whole) {
      const resolved = lookup(variables, whole[1]!.trim());
      if (resolved === undefined) throw new UnresolvedReferenceError(`\${${whole[1]}} has no value`);
      return resolved;
    }
    return value.replace(/\$\{([^}]*)\}/g, (_, path: string) => {
      const resolved = lookup(variables, path.trim());
      if (resolved === undefined) throw new UnresolvedReferenceError(`\${${path}} has no value`);
      return typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
    });
  }
  if (Array.isArray(value)) return value.map((item) => resolveValue(item, variables));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, resolveValue(item, variables)]));
  }
  return value;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Evaluates a step's `when` against the part's variables. */
export function conditionHolds(condition: Condition, variables: Variables): boolean {
  const value = lookup(variables, condition.var);
  if ('equals' in condition) return sameValue(value, condition.equals);
  if ('notEquals' in condition) return !sameValue(value, condition.notEquals);
  if ('in' in condition) return condition.in.some((candidate) => sameValue(value, candidate));
  return (value !== undefined) === condition.exists;
}
