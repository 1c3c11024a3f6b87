// Which company plays each role for one part. A step that names a role (`to: manufacturer`) but no
// `participant:` acts for the participant bound to that role when the part started; the bindings
// are part of the part's input, so every attempt and every replay sees the same company.
// Pure: bundled into the workflow sandbox.
import type { CompiledStep } from './definition.js';
import { roleFieldsOf } from './step-kinds.js';

/** Role name to participant id. */
export type RoleBindings = Record<string, string>;

/** The role a step addresses that a binding must fill: its role field, when it names no participant. */
export function boundRoleOf(step: Pick<CompiledStep, 'kind' | 'params'>): string | undefined {
  if (step.params.participant !== undefined) return undefined;
  const field = roleFieldsOf(step.kind)[0];
  const role = field === undefined ? undefined : step.params[field];
  return typeof role === 'string' ? role : undefined;
}

/** The roles a part on this lifecycle needs bound at start, in step order. */
export function rolesToBind(lifecycle: { steps: Pick<CompiledStep, 'kind' | 'params'>[] }): string[] {
  return [...new Set(lifecycle.steps.map(boundRoleOf).filter((role): role is string => role !== undefined))];
}

/** A step's resolved parameters with the bound participant filled in where the step names none. */
export function withBoundParticipant(
  step: Pick<CompiledStep, 'kind' | 'params'>,
  params: Record<string, unknown>,
  bindings: RoleBindings | undefined,
): Record<string, unknown> {
  if (!bindings || params.participant !== undefined) return params;
  const role = boundRoleOf({ kind: step.kind, params });
  const participant = role === undefined ? undefined : bindings[role];
  return participant === undefined ? params : { ...params, participant };
}
