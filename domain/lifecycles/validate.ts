// Validation of an authored lifecycle, with errors a process engineer can act on: each names the
// field path (`steps[3].to`), the step id and what is wrong, with a suggestion for likely typos.
// Structure is checked per step kind with zod; meaning (roles, references, flow) is checked here.
import type { z } from 'zod/v4';
import {
  END,
  PARTICIPANT_ID_PATTERN,
  PARTICIPANT_ID_RULE,
  isDocumentReference,
  PARTICIPANT_ROLES,
  PART_ID_PATTERN,
  STEP_KINDS,
  referencesIn,
} from '../../workflows/definition.js';
import { RESERVED_EVENT_NAMES } from '../../workflows/part-types.js';
import { roleFieldsOf, stepKindSpec } from '../../workflows/step-kinds.js';
import type { LifecycleStepKind } from '../../workflows/definition.js';
import { STEP_COMMON_FIELDS, lifecycleHeaderSchema, stepSchemas } from './authoring-schema.js';
import type { AuthoredLifecycle, AuthoredStep } from './authoring-schema.js';
import { didYouMean } from '../../workflows/suggest.js';
import { rolesToBind } from '../../workflows/role-bindings.js';

export interface DefinitionProblem {
  /** Field path, e.g. `steps[3].to` or `name`. */
  path: string;
  /** The id of the step the problem is in, when there is one. */
  step?: string;
  message: string;
  /** 1-based line in the source file, when known. */
  line?: number;
}

export type ValidationResult = { ok: true; definition: AuthoredLifecycle } | { ok: false; problems: DefinitionProblem[] };

function pathOf(segments: readonly PropertyKey[]): string {
  return segments.reduce<string>((out, segment) => {
    if (typeof segment === 'number') return `${out}[${segment}]`;
    return out ? `${out}.${String(segment)}` : String(segment);
  }, '');
}

function zodProblems(error: z.ZodError, prefix: (string | number)[], step?: string): DefinitionProblem[] {
  return error.issues.flatMap((issue): DefinitionProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: pathOf([...prefix, ...issue.path, key]), step, message: `unknown field "${key}"` }));
    }
    const message = issue.message.replace(/^Invalid input: /, '');
    return [
      {
        path: pathOf([...prefix, ...issue.path]) || '(top level)',
        step,
        message: /received undefined$/.test(message) ? 'required' : message,
      },
    ];
  });
}

/** Every string in a step parameter, with its path, for reference checks. */
function stringsIn(value: unknown, path: (string | number)[]): { path: (string | number)[]; text: string }[] {
  if (typeof value === 'string') return [{ path, text: value }];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringsIn(item, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => stringsIn(item, [...path, key]));
  return [];
}

/** Validates an authored definition (already parsed from YAML or JSON). */
export function validateLifecycle(raw: unknown): ValidationResult {
  const header = lifecycleHeaderSchema.safeParse(raw);
  if (!header.success) {
    // Report header problems, and still check the steps when the list itself is usable.
    const problems = zodProblems(header.error, []).filter((p) => !p.path.startsWith('steps['));
    const { steps, params } = (raw ?? {}) as { steps?: unknown; params?: unknown };
    const declared = params && typeof params === 'object' && !Array.isArray(params) ? (params as Record<string, unknown>) : {};
    if (Array.isArray(steps) && steps.length > 0) problems.push(...checkSteps(steps, declared).problems);
    return { ok: false, problems };
  }
  const { problems, steps } = checkSteps(header.data.steps, header.data.params ?? {});
  if (problems.length === 0) problems.push(...checkRoleRules(header.data.roles ?? {}, steps));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, definition: { ...header.data, steps } };
}

function checkSteps(rawSteps: unknown[], params: Record<string, unknown>): { problems: DefinitionProblem[]; steps: AuthoredStep[] } {
  const ids = rawSteps.map((s) => (s && typeof s === 'object' ? (s as { id?: unknown }).id : undefined));
  const stepIds = ids.filter((id): id is string => typeof id === 'string');
  // 1. Structure, per kind.
  const checked = rawSteps.map((rawStep, index) =>
    checkStructure(rawStep, index, typeof ids[index] === 'string' ? (ids[index] as string) : undefined),
  );
  const steps = checked.map((result) => result.step);
  const problems = checked.flatMap((result) => result.problems);
  // 2. Unique ids.
  problems.push(...checkIds(ids));
  // 3. Meaning of each valid step: roles, targets, events, references.
  const context: StepContext = { steps, stepIds, paramNames: Object.keys(params) };
  steps.forEach((step, index) => {
    if (step) problems.push(...checkMeaning(step, index, context));
  });
  // 4. Flow: every step reachable, every loop waits for something (needs distinct ids only).
  if (stepIds.length === rawSteps.length && new Set(stepIds).size === stepIds.length) problems.push(...checkFlow(rawSteps as FlowStep[]));
  return { problems, steps: steps.filter((s): s is AuthoredStep => s !== undefined) };
}

/** `roles:` entries must name known roles that some step leaves for the part's binding. */
function checkRoleRules(roles: Record<string, unknown>, steps: AuthoredStep[]): DefinitionProblem[] {
  const bound = rolesToBind({ steps: steps.map((step) => ({ kind: step.kind, params: step as Record<string, unknown> })) });
  return Object.keys(roles).flatMap((role): DefinitionProblem[] => {
    if (!(PARTICIPANT_ROLES as readonly string[]).includes(role)) {
      const message = `unknown participant role "${role}"${didYouMean(role, PARTICIPANT_ROLES)}; roles: ${PARTICIPANT_ROLES.join(', ')}`;
      return [{ path: `roles.${role}`, message }];
    }
    if (bound.includes(role)) return [];
    const which = bound.length > 0 ? `the steps bind ${bound.join(', ')}` : 'every step names its participant';
    return [{ path: `roles.${role}`, message: `no step addresses "${role}" without a participant, so nothing uses this (${which})` }];
  });
}

/** One step against its kind's schema; the step when it passes, and what is wrong. */
function checkStructure(rawStep: unknown, index: number, id: string | undefined): { step?: AuthoredStep; problems: DefinitionProblem[] } {
  const at = `steps[${index}]`;
  if (!rawStep || typeof rawStep !== 'object' || Array.isArray(rawStep))
    return { problems: [{ path: at, message: 'expected a step (an object with id and kind)' }] };
  const kind = (rawStep as { kind?: unknown }).kind;
  if (typeof kind !== 'string')
    return { problems: [{ path: `${at}.kind`, step: id, message: `required: one of ${STEP_KINDS.join(', ')}` }] };
  if (!(STEP_KINDS as readonly string[]).includes(kind)) {
    return {
      problems: [
        {
          path: `${at}.kind`,
          step: id,
          message: `unknown step kind "${kind}"${didYouMean(kind, STEP_KINDS)}; kinds: ${STEP_KINDS.join(', ')}`,
        },
      ],
    };
  }
  const schema = stepSchemas[kind as LifecycleStepKind];
  const parsed = schema.safeParse(rawStep);
  if (parsed.success) return { step: parsed.data as AuthoredStep, problems: [] };
  const problems = zodProblems(parsed.error, ['steps', index], id);
  for (const problem of problems) {
    // An unknown field of a kind may be a typo of one of its fields.
    const unknown = /^unknown field "([^"]+)"$/.exec(problem.message);
    if (unknown) problem.message += `${didYouMean(unknown[1]!, [...STEP_COMMON_FIELDS, ...Object.keys(schema.shape)])} for a ${kind} step`;
  }
  return { problems };
}

/** Duplicate step ids, and the reserved id `end`. */
function checkIds(ids: unknown[]): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const firstIndex = new Map<string, number>();
  ids.forEach((id, index) => {
    if (typeof id !== 'string') return;
    const first = firstIndex.get(id);
    if (first === undefined) firstIndex.set(id, index);
    else problems.push({ path: `steps[${index}].id`, step: id, message: `duplicate step id "${id}" (first used by steps[${first}])` });
  });
  const end = ids.indexOf(END);
  if (end >= 0) problems.push({ path: `steps[${end}].id`, step: END, message: `"${END}" is reserved for next: ${END}` });
  return problems;
}

/** What a step's references may point at. */
interface StepContext {
  steps: (AuthoredStep | undefined)[];
  stepIds: string[];
  paramNames: string[];
}

/** Roles, flow targets, event names, literal values and references of one structurally valid step. */
function checkMeaning(step: AuthoredStep, index: number, context: StepContext): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const add = (field: string, message: string) => problems.push({ path: `steps[${index}].${field}`, step: step.id, message });
  const { stepIds } = context;
  for (const field of roleFieldsOf(step.kind)) {
    const value = (step as Record<string, unknown>)[field];
    if (typeof value === 'string' && !(PARTICIPANT_ROLES as readonly string[]).includes(value)) {
      add(field, `unknown participant role "${value}"${didYouMean(value, PARTICIPANT_ROLES)}; roles: ${PARTICIPANT_ROLES.join(', ')}`);
    }
  }
  if (step.next !== undefined && step.next !== END && !stepIds.includes(step.next))
    add('next', `unknown step "${step.next}"${didYouMean(step.next, [...stepIds, END])}`);
  if (step.next === step.id) add('next', 'a step cannot go to itself');
  if ((step.kind === 'await' || step.kind === 'record') && RESERVED_EVENT_NAMES.includes(step.event)) {
    add('event', `"${step.event}" is reserved by the part workflow; choose another event name`);
  }
  checkLiteral(step, add);
  checkReferences(step, index, context, add);
  return problems;
}

/** `${params.x}` must be a declared param; `${step.field}` an earlier step's output; `when` any step's. */
function checkReferences(step: AuthoredStep, index: number, context: StepContext, add: (field: string, message: string) => void): void {
  const { steps, stepIds, paramNames } = context;
  const stringsToCheck = Object.entries(step)
    .filter(([key]) => !STEP_COMMON_FIELDS.has(key) && key !== 'payload')
    .flatMap(([key, value]) => stringsIn(value, [key]));
  for (const { path, text } of stringsToCheck) {
    for (const reference of referencesIn(text)) {
      const problem = checkReference(reference, index, steps, stepIds, paramNames);
      if (problem) add(pathOf(path), problem);
    }
  }
  if (step.when) {
    const problem = checkReference(step.when.var, index, steps, stepIds, paramNames, true);
    if (problem) add('when.var', problem);
  }
}

/** Literal (reference-free) values must already have the right shape. */
function checkLiteral(step: AuthoredStep, add: (field: string, message: string) => void): void {
  const literal = (value: unknown): value is string => typeof value === 'string' && referencesIn(value).length === 0;
  const participant = (step as { participant?: unknown }).participant;
  if (literal(participant) && !PARTICIPANT_ID_PATTERN.test(participant))
    add('participant', `"${participant}" is not a participant id (${PARTICIPANT_ID_RULE})`);
  if ((step.kind === 'transfer' || step.kind === 'decommission') && literal(step.part) && !PART_ID_PATTERN.test(step.part))
    add('part', `"${step.part}" is not a part id`);
  if (step.kind === 'bundle' && literal(step.into) && !PART_ID_PATTERN.test(step.into)) add('into', `"${step.into}" is not a part id`);
  if (step.kind === 'attach-certificate' && literal(step.document) && !isDocumentReference(step.document)) {
    add('document', 'expected a document id, its 0x-prefixed SHA-256 hash, or a reference such as ${report.document}');
  }
  const partLists =
    step.kind === 'assemble' ? { components: step.components } : step.kind === 'mint' && step.from !== undefined ? { from: step.from } : {};
  for (const [name, value] of Object.entries(partLists)) {
    [value].flat().forEach((item, i) => {
      const field = Array.isArray(value) ? `${name}[${i}]` : name;
      if (literal(item) && !PART_ID_PATTERN.test(item)) add(field, `"${item}" is not a part id`);
    });
  }
}

function checkReference(
  reference: string,
  index: number,
  steps: (AuthoredStep | undefined)[],
  stepIds: string[],
  paramNames: string[],
  anyOrder = false,
): string | undefined {
  const [root, field] = reference.split('.');
  if (!root) return `empty reference \${${reference}}`;
  if (root === 'params') {
    if (!field) return `\${params} needs a parameter name, e.g. \${params.${paramNames[0] ?? 'lot'}}`;
    if (!paramNames.includes(field)) {
      return `unknown parameter "${field}" in \${${reference}}${didYouMean(field, paramNames)}; declare it under params:`;
    }
    return undefined;
  }
  const target = stepIds.indexOf(root);
  if (target === -1) return `\${${reference}} refers to unknown step "${root}"${didYouMean(root, [...stepIds, 'params'])}`;
  if (target === index) return `\${${reference}} refers to this step's own output`;
  if (target > index && !anyOrder) return `\${${reference}} refers to step "${root}", which comes later and has not run yet`;
  const targetStep = steps[target];
  if (!field) return `\${${reference}} needs a field, e.g. \${${root}.${(targetStep && outputsOf(targetStep)[0]) ?? 'field'}}`;
  // A step that failed its own checks is reported there; its outputs are unknown.
  if (!targetStep) return undefined;
  const outputs = outputsOf(targetStep);
  if (outputs.length > 0 && !outputs.includes(field)) {
    return `step "${root}" (${targetStep.kind}) has no output "${field}"${didYouMean(field, outputs)}; it has ${outputs.join(', ')}`;
  }
  return undefined;
}

/** What a step leaves under its id: its kind's outputs, or an `await` step's payload fields. */
function outputsOf(step: AuthoredStep): string[] {
  const { outputs } = stepKindSpec(step.kind);
  return outputs === 'payload' ? Object.keys((step as { payload?: object }).payload ?? {}) : [...outputs];
}

/** The parts of a step that decide where the flow goes; read from the raw steps. */
interface FlowStep {
  id: string;
  kind?: unknown;
  next?: unknown;
  when?: unknown;
}

/** Unreachable steps and loops that would spin without waiting for anything. */
function checkFlow(steps: FlowStep[]): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const position = new Map(steps.map((step, i) => [step.id, i]));
  const successors = (i: number): number[] => {
    const step = steps[i]!;
    const out: number[] = [];
    // An unknown target is reported on its own; treating it as a fall-through avoids a cascade.
    const after = typeof step.next !== 'string' ? i + 1 : step.next === END ? -1 : (position.get(step.next) ?? i + 1);
    if (after >= 0 && after < steps.length) out.push(after);
    // A step with `when` may be skipped, which falls through to the next in the list.
    if (step.when && i + 1 < steps.length) out.push(i + 1);
    return out;
  };

  const reached = new Set<number>([0]);
  const queue = [0];
  while (queue.length > 0) {
    for (const next of successors(queue.shift()!)) {
      if (!reached.has(next)) {
        reached.add(next);
        queue.push(next);
      }
    }
  }
  steps.forEach((step, i) => {
    if (reached.has(i)) return;
    const jumper = steps.findIndex((s, j) => j < i && typeof s.next === 'string' && reached.has(j));
    const why = jumper >= 0 ? ` (steps[${jumper}] "${steps[jumper]!.id}" jumps past it with next: ${steps[jumper]!.next})` : '';
    problems.push({ path: `steps[${i}]`, step: step.id, message: `unreachable: no step leads to "${step.id}"${why}` });
  });

  steps.forEach((step, i) => {
    if (typeof step.next !== 'string' || step.next === END) return;
    const target = position.get(step.next);
    if (target === undefined || target > i) return;
    if (!steps.slice(target, i + 1).some((s) => s.kind === 'await')) {
      problems.push({
        path: `steps[${i}].next`,
        step: step.id,
        message: `loops back to "${step.next}" with no await step in between, so it would never end`,
      });
    }
  });
  return problems;
}

/** One line per problem: `chip.yaml:12: steps[3].to [step "ship"]: unknown participant role …`. */
export function formatProblem(source: string, problem: DefinitionProblem): string {
  const where = problem.line ? `${source}:${problem.line}` : source;
  const step = problem.step ? ` [step "${problem.step}"]` : '';
  return `${where}: ${problem.path}${step}: ${problem.message}`;
}
