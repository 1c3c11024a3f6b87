// What an operator may change in a failed step before retrying it: the step kind's own parameters
// (never its id, kind, flow or retry policy), checked against the same zod schema that checks
// definitions, and compiled the way a definition is. Pure: the workflow's validator runs it too.
import { z } from 'zod/v4';
import { parseDuration } from './duration.js';
import { PARTICIPANT_ROLES, referencesIn } from '../../workflows/definition.js';
import type { LifecycleStepKind } from '../../workflows/definition.js';
import { STEP_COMMON_FIELDS, stepSchemas } from './authoring-schema.js';
import { didYouMean } from './suggest.js';

export interface EditProblem {
  field: string;
  message: string;
}

export type StepEditResult = { ok: true; params: Record<string, unknown> } | { ok: false; problems: EditProblem[] };

/** Parameters that name a participant role. */
const ROLE_FIELDS = new Set(['to', 'issuer']);

/** The parameters a step of this kind has (what an operator may edit). */
export function editableParams(kind: LifecycleStepKind): string[] {
  return Object.keys(stepSchemas[kind].shape).filter((field) => !STEP_COMMON_FIELDS.has(field));
}

/**
 * Checks edits to a step of `kind` and returns them in compiled form (e.g. `validFor: 30d` also sets
 * `validForMs`), ready to lay over the step's compiled parameters.
 */
export function checkStepEdits(kind: LifecycleStepKind, edits: unknown): StepEditResult {
  if (edits === null || typeof edits !== 'object' || Array.isArray(edits)) return { ok: false, problems: [{ field: 'params', message: 'expected an object of step parameters' }] };
  const editable = editableParams(kind);
  if (kind === 'await') {
    const fields = Object.keys(edits);
    return fields.length === 0 ? { ok: true, params: {} } : { ok: false, problems: [{ field: `params.${fields[0]}`, message: 'an await step has no parameters to edit; retry it as it is' }] };
  }
  const problems: EditProblem[] = [];
  const shape = stepSchemas[kind].shape as Record<string, z.ZodType>;
  for (const field of Object.keys(edits)) {
    if (!editable.includes(field)) {
      problems.push({ field: `params.${field}`, message: `not a parameter of a ${kind} step${didYouMean(field, editable)}; its parameters: ${editable.join(', ') || 'none'}` });
    }
  }
  const known = Object.fromEntries(Object.entries(edits).filter(([field]) => editable.includes(field)));
  const schema = z.object(Object.fromEntries(Object.keys(known).map((field) => [field, shape[field]!.nonoptional()])));
  const parsed = schema.safeParse(known);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push({ field: ['params', ...issue.path.map(String)].join('.'), message: issue.message });
  }
  for (const field of Object.keys(known).filter((f) => ROLE_FIELDS.has(f))) {
    const role = known[field];
    if (typeof role === 'string' && referencesIn(role).length === 0 && !(PARTICIPANT_ROLES as readonly string[]).includes(role)) {
      problems.push({ field: `params.${field}`, message: `unknown participant role "${role}"${didYouMean(role, PARTICIPANT_ROLES)}; roles: ${PARTICIPANT_ROLES.join(', ')}` });
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const params: Record<string, unknown> = { ...known };
  if ('validFor' in params) params.validForMs = parseDuration(params.validFor as string);
  return { ok: true, params };
}
