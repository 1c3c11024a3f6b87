// Checking values against a lifecycle's field declarations (a part's params, an event's payload),
// plus what the workflow cannot check: that participant-typed values name registered participants.
import { existingParticipantIds } from '../../db/participants.js';
import type { Db } from '../../db/client.js';
import { checkFields } from '../../workflows/definition.js';
import type { FieldSpecs } from '../../workflows/definition.js';
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';

export interface FieldProblem {
  field: string;
  message: string;
}

/** Participant-typed values that name no registered participant. */
export async function unknownParticipants(db: Db, specs: FieldSpecs, values: Record<string, unknown>): Promise<FieldProblem[]> {
  const named = Object.keys(specs).filter((name) => specs[name]!.type === 'participant' && typeof values[name] === 'string');
  if (named.length === 0) return [];
  const known = await existingParticipantIds(
    db,
    named.map((name) => values[name] as string),
  );
  return named
    .filter((name) => !known.has(values[name] as string))
    .map((name) => ({ field: name, message: `unknown participant "${values[name]}"` }));
}

/** The declarations' problems with `values`; once the shape is right, unknown participants. */
export async function fieldProblems(db: Db, specs: FieldSpecs, values: Record<string, unknown>): Promise<FieldProblem[]> {
  const problems = checkFields(specs, values);
  return problems.length > 0 ? problems : unknownParticipants(db, specs, values);
}

/** The problems as one line, `field: message; ...`. */
export function listProblems(problems: FieldProblem[]): string {
  return problems.map((p) => `${p.field}: ${p.message}`).join('; ');
}

/** 422 `invalid_payload` with one entry per field. */
export function invalidPayload(event: string, problems: FieldProblem[]): CodedError {
  return new CodedError(Errors.invalid_payload, { event, problems: listProblems(problems) }, problems);
}
