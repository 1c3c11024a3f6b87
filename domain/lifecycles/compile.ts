// Turns a validated authored definition into the form the interpreter runs: durations in
// milliseconds, defaults filled in, kind parameters grouped. Compiled once, at publish time, and
// stored with the version, so every part started on that version runs exactly the same thing.
import { createHash } from 'node:crypto';
import { parseDuration } from '../../workflows/duration.js';
import { canonicalJson } from '../chain/part-registry.js';
import type { CompiledLifecycle, CompiledStep, FieldSpecs } from '../../workflows/definition.js';
import { STEP_COMMON_FIELDS } from './authoring-schema.js';
import type { AuthoredLifecycle, AuthoredStep } from './authoring-schema.js';
import { stepKindSpec } from '../../workflows/step-kinds.js';

/** What makes two definitions "the same content": everything but the version number and $schema. */
export function contentHashOf(definition: AuthoredLifecycle): string {
  const { version: _version, $schema: _schema, ...content } = definition;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

function ms(duration: string | undefined): number | undefined {
  return duration === undefined ? undefined : parseDuration(duration);
}

function fieldSpecs(specs: AuthoredLifecycle['params']): FieldSpecs {
  return Object.fromEntries(Object.entries(specs ?? {}).map(([name, spec]) => [name, { ...spec, required: spec.required ?? false }]));
}

/** The kind's own parameters, compiled by their registry shape: field declarations filled in, durations also in ms. */
function compileParams(step: AuthoredStep): Record<string, unknown> {
  const params: Record<string, unknown> = Object.fromEntries(Object.entries(step).filter(([key]) => !STEP_COMMON_FIELDS.has(key)));
  for (const [name, spec] of Object.entries(stepKindSpec(step.kind).params)) {
    if (spec.type === 'fields') params[name] = fieldSpecs(params[name] as AuthoredLifecycle['params']);
    if (spec.type === 'duration') params[`${name}Ms`] = ms(params[name] as string | undefined) ?? null;
  }
  return params;
}

export function compileLifecycle(definition: AuthoredLifecycle, version: number): CompiledLifecycle {
  const steps = definition.steps.map((step): CompiledStep => {
    const compiled: CompiledStep = { id: step.id, kind: step.kind, params: compileParams(step), onFailure: step.onFailure ?? 'park' };
    if (step.when) compiled.when = step.when;
    if (step.next) compiled.next = step.next;
    if (step.timeout) compiled.timeoutMs = ms(step.timeout);
    if (step.retry) {
      compiled.retry = {
        initialIntervalMs: ms(step.retry.initialInterval),
        backoffCoefficient: step.retry.backoffCoefficient,
        maximumIntervalMs: ms(step.retry.maximumInterval),
        maximumAttempts: step.retry.maximumAttempts,
        nonRetryableErrorCodes: step.retry.nonRetryableErrorCodes,
      };
    }
    return compiled;
  });
  return {
    name: definition.name,
    version,
    contentHash: contentHashOf(definition),
    ...(definition.description ? { description: definition.description } : {}),
    params: fieldSpecs(definition.params),
    ...(definition.roles ? { roles: definition.roles } : {}),
    steps,
  };
}
