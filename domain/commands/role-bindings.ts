// Binding a part's roles when it starts: which company plays each role its steps name without a
// `participant:`. Decided once, here, so a part never parks later on an ambiguous or absent role:
// what cannot be bound is refused at start with 422, naming the role and the candidates.
import type { Db } from '../../db/client.js';
import { findParticipants, participantsHolding } from '../../db/participants.js';
import type { Participant } from '../../db/participants.js';
import { partRoles } from '../../db/parts.js';
import { lookup, referencesIn } from '../../workflows/definition.js';
import type { CompiledLifecycle } from '../../workflows/definition.js';
import { rolesToBind } from '../../workflows/role-bindings.js';
import type { RoleBindings } from '../../workflows/role-bindings.js';
import { didYouMean } from '../../workflows/suggest.js';
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';
import { listProblems } from './part-fields.js';

/** How many candidates a refusal lists. */
const CANDIDATES_SHOWN = 10;

export interface RoleProblem {
  field: string;
  message: string;
  /** The participants that could play the role, when that is the question. */
  candidates?: string[];
}

interface StartRoles {
  roles?: RoleBindings;
  params: Record<string, unknown>;
}

/** A `${params.x}` reference's value, when the whole text is one; what a start can know before any step ran. */
function fromParams(value: unknown, params: Record<string, unknown>): unknown {
  if (typeof value !== 'string') return value;
  const [reference] = referencesIn(value);
  if (reference === undefined) return value;
  return value === `\${${reference}}` && reference.startsWith('params.') ? lookup({ params }, reference) : undefined;
}

/** The parts this one is made from (mint `from`, assemble `components`) that its params already name. */
export function madeFromAtStart(lifecycle: Pick<CompiledLifecycle, 'steps'>, params: Record<string, unknown>): string[] {
  const ids = lifecycle.steps.flatMap((step) => {
    const list = step.kind === 'mint' ? step.params.from : step.kind === 'assemble' ? step.params.components : undefined;
    if (list === undefined) return [];
    return [list].flat().flatMap((item) => [fromParams(item, params)].flat());
  });
  return [...new Set(ids.filter((id): id is string => typeof id === 'string'))];
}

/** The one participant every parent that has the role bound agrees on, if they do. */
function inherited(role: string, parents: Map<string, RoleBindings>): string | undefined {
  const bound = new Set([...parents.values()].map((roles) => roles[role]).filter((id) => id !== undefined));
  return bound.size === 1 ? [...bound][0] : undefined;
}

/** Who else could play `role`, for the refusal. */
function candidatesLine(candidates: Participant[]): string {
  const shown = candidates.slice(0, CANDIDATES_SHOWN).map((p) => p.id);
  const more = candidates.length - shown.length;
  return shown.join(', ') + (more > 0 ? ` and ${more} more` : '');
}

interface Context {
  lifecycle: CompiledLifecycle;
  holders: Participant[];
  named: Map<string, Participant>;
  parents: Map<string, RoleBindings>;
  caller: string;
}

/** A participant a request, parent or default names, checked against the role; a problem otherwise. */
function checked(role: string, id: string, source: string, context: Context): string | RoleProblem {
  const participant = context.named.get(id);
  if (!participant) return { field: `roles.${role}`, message: `${source} "${id}" is no registered participant` };
  if (!participant.roles.includes(role)) {
    return {
      field: `roles.${role}`,
      message: `${source} "${id}" does not hold the role "${role}" (it holds: ${participant.roles.join(', ') || 'none'})`,
    };
  }
  return id;
}

/** One role: the request, the parents, the rule, the default, the only holder, in that order. */
function bindOne(role: string, given: RoleBindings, context: Context): string | RoleProblem {
  const candidates = context.holders.filter((p) => p.roles.includes(role));
  const rule = context.lifecycle.roles?.[role];
  if (given[role] !== undefined) return checked(role, given[role], 'the request names', context);
  const parent = inherited(role, context.parents);
  if (parent !== undefined) return checked(role, parent, 'the parts it is made from name', context);
  if (rule?.rule === 'caller' && candidates.some((p) => p.id === context.caller)) return context.caller;
  if (rule?.default !== undefined) return checked(role, rule.default, 'the lifecycle default', context);
  if (candidates.length === 1) return candidates[0]!.id;
  const ids = candidates.map((p) => p.id);
  const message =
    candidates.length === 0
      ? `no participant holds the role "${role}"; onboard one (POST /participants) first`
      : `${candidates.length} participants hold the role "${role}" (${candidatesLine(candidates)}); name one in roles.${role}`;
  return { field: `roles.${role}`, message, candidates: ids.slice(0, CANDIDATES_SHOWN) };
}

/**
 * The part's role bindings, or 422 `unresolved_roles` listing every role that cannot be bound and
 * every participant named for a role it does not hold. (A step that names its participant itself,
 * e.g. from a param, is checked when it runs: roles may change while a part runs.)
 */
export async function bindRoles(db: Db, lifecycle: CompiledLifecycle, request: StartRoles, caller: string): Promise<RoleBindings> {
  const needed = rolesToBind(lifecycle);
  const given = request.roles ?? {};
  const parents = await partRoles(db, madeFromAtStart(lifecycle, request.params));
  const mentioned = [
    ...Object.values(given),
    ...[...parents.values()].flatMap(Object.values),
    ...Object.values(lifecycle.roles ?? {}).flatMap((rule) => (rule.default ? [rule.default] : [])),
  ];
  const context: Context = {
    lifecycle,
    holders: await participantsHolding(db, needed),
    named: await findParticipants(db, mentioned),
    parents,
    caller,
  };

  const problems: RoleProblem[] = Object.keys(given)
    .filter((role) => !needed.includes(role))
    .map((role) => ({
      field: `roles.${role}`,
      message: `${lifecycle.name} v${lifecycle.version} binds no role "${role}"${didYouMean(role, needed)}; it binds: ${needed.join(', ') || 'none (every step names its participant)'}`,
    }));
  const bindings: RoleBindings = {};
  for (const role of needed) {
    const bound = bindOne(role, given, context);
    if (typeof bound === 'string') bindings[role] = bound;
    else problems.push(bound);
  }
  if (problems.length > 0) {
    throw new CodedError(
      Errors.unresolved_roles,
      { lifecycle: lifecycle.name, version: lifecycle.version, problems: listProblems(problems) },
      problems,
    );
  }
  return bindings;
}
