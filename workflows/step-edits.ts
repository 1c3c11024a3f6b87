// What an operator may change in a failed step before retrying it: the step kind's own parameters
// (never its id, kind, flow or retry policy), checked against the kind's registry entry and compiled
// the way publishing compiles a definition. Plain TypeScript over the registry's data, so the
// workflow's update validator and handler run exactly this code on replay, whatever later changes
// the authoring schema.
import { NAME_PATTERN, PARTICIPANT_ROLES, referencesIn } from './definition.js';
import type { FieldProblem } from './definition.js';
import { DURATION_PATTERN, parseDuration } from './duration.js';
import { paramsOf, stepKindSpec } from './step-kinds.js';
import type { LifecycleStepKind, StepParamSpec } from './step-kinds.js';
import { didYouMean } from './suggest.js';

export type StepEditResult = { ok: true; params: Record<string, unknown> } | { ok: false; problems: FieldProblem[] };

const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0;

/** What is wrong with an edited value of a parameter, or undefined when it has the right shape. */
export function paramProblem(spec: StepParamSpec, value: unknown): string | undefined {
  switch (spec.type) {
    case 'role':
    case 'text':
      return isText(value) ? undefined : 'expected a non-empty string';
    case 'texts':
      return isText(value) || (Array.isArray(value) && value.length > 0 && value.every(isText))
        ? undefined
        : 'expected a string or a non-empty list of strings';
    case 'name':
      return typeof value === 'string' && NAME_PATTERN.test(value)
        ? undefined
        : `${spec.what}: lowercase letters, digits and dashes, starting with a letter`;
    case 'names':
      return Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string' && NAME_PATTERN.test(item))
        ? undefined
        : `expected a non-empty list of ${spec.what}s (lowercase letters, digits and dashes)`;
    case 'duration':
      return typeof value === 'string' && DURATION_PATTERN.test(value) ? undefined : 'a duration such as 500ms, 30s, 5m, 2h or 7d';
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value) ? undefined : 'expected an object';
    case 'fields':
      return 'field declarations cannot be edited';
  }
}

/** A role parameter given literally must be a known role. */
function roleProblem(spec: StepParamSpec, value: unknown): string | undefined {
  if (spec.type !== 'role' || typeof value !== 'string' || referencesIn(value).length > 0) return undefined;
  if ((PARTICIPANT_ROLES as readonly string[]).includes(value)) return undefined;
  return `unknown participant role "${value}"${didYouMean(value, PARTICIPANT_ROLES)}; roles: ${PARTICIPANT_ROLES.join(', ')}`;
}

/** The edits in compiled form: a duration also sets `<param>Ms`, as compiling a definition does. */
function compileEdits(kind: LifecycleStepKind, edits: Record<string, unknown>): Record<string, unknown> {
  const params = { ...edits };
  for (const [name, spec] of Object.entries(stepKindSpec(kind).params)) {
    if (spec.type === 'duration' && name in edits) params[`${name}Ms`] = parseDuration(edits[name] as string);
  }
  return params;
}

/**
 * Checks edits to a step of `kind` and returns them in compiled form, ready to lay over the step's
 * compiled parameters; or every problem, each naming its field (`params.to`).
 */
export function checkStepEdits(kind: LifecycleStepKind, edits: unknown): StepEditResult {
  if (edits === null || typeof edits !== 'object' || Array.isArray(edits))
    return { ok: false, problems: [{ field: 'params', message: 'expected an object of step parameters' }] };
  const fields = Object.keys(edits);
  const spec = stepKindSpec(kind);
  if (spec.activity === undefined) {
    // Such a step runs in the workflow itself (`await`): there is nothing to edit.
    return fields.length === 0
      ? { ok: true, params: {} }
      : {
          ok: false,
          problems: [{ field: `params.${fields[0]}`, message: `an ${kind} step has no parameters to edit; retry it as it is` }],
        };
  }
  const editable = paramsOf(kind);
  const problems: FieldProblem[] = [];
  for (const [field, value] of Object.entries(edits as Record<string, unknown>)) {
    const param = spec.params[field];
    const problem = param
      ? (paramProblem(param, value) ?? roleProblem(param, value))
      : `not a parameter of a ${kind} step${didYouMean(field, editable)}; its parameters: ${editable.join(', ') || 'none'}`;
    if (problem) problems.push({ field: `params.${field}`, message: problem });
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, params: compileEdits(kind, edits as Record<string, unknown>) };
}
