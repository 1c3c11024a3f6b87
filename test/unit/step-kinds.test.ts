// The step-kind registry and what is built from it, without a server: every kind has its authoring
// schema, its outputs, its activity (registered by the worker) and its role fields; the workflow's
// edit check for operator retries; and the idempotency keys of step activities' chain writes.
import { describe, expect, it } from 'vitest';
import { createActivities } from '../../activities/index.js';
import type { ActivityDeps } from '../../activities/index.js';
import { stepWrite, writeKey } from '../../activities/step-call.js';
import { stepSchemas } from '../../domain/lifecycles/authoring-schema.js';
import { compileLifecycle } from '../../domain/lifecycles/compile.js';
import { validateLifecycle } from '../../domain/lifecycles/validate.js';
import { checkStepEdits } from '../../workflows/step-edits.js';
import { ROLE_FIELDS, STEP_KINDS, STEP_KIND_REGISTRY, paramsOf, roleFieldsOf, stepKindSpec } from '../../workflows/step-kinds.js';

describe('step-kind registry', () => {
  // Building the activities only creates closures over their dependencies; none is called here.
  const activities = createActivities({} as ActivityDeps);

  it.each(STEP_KINDS)('%s has an authoring schema, outputs, a description, and an activity the worker registers', (kind) => {
    const spec = stepKindSpec(kind);
    expect(spec.description.length).toBeGreaterThan(0);
    expect(Object.keys(stepSchemas[kind].shape)).toEqual(expect.arrayContaining(['id', 'kind', ...paramsOf(kind)]));
    expect(spec.outputs === 'payload' || spec.outputs.length > 0).toBe(true);
    if (kind === 'await') expect(spec.activity).toBeUndefined();
    else expect(typeof activities[spec.activity as keyof typeof activities]).toBe('function');
  });

  it('lists the role fields of each kind', () => {
    expect(roleFieldsOf('mint')).toEqual(['to']);
    expect(roleFieldsOf('attach-certificate')).toEqual(['issuer']);
    expect(roleFieldsOf('await')).toEqual(['by']);
    expect(roleFieldsOf('record')).toEqual([]);
    expect([...ROLE_FIELDS].sort()).toEqual(['by', 'issuer', 'to']);
  });

  it('has no step activity the registry does not name', () => {
    const named = new Set<string | undefined>(
      Object.values(STEP_KIND_REGISTRY).map((spec) => ('activity' in spec ? spec.activity : undefined)),
    );
    const stepActivities = Object.keys(activities).filter((name) => name.endsWith('Step'));
    expect(stepActivities.filter((name) => !named.has(name))).toEqual([]);
  });

  it('compiles every parameter shape: durations also in ms, field declarations filled in', () => {
    const checked = validateLifecycle({
      name: 'all-shapes',
      steps: [
        { id: 'wait', kind: 'await', event: 'tested', payload: { report: { type: 'document' } } },
        { id: 'cert', kind: 'attach-certificate', certificate: 'quality', document: '${wait.report}', issuer: 'certifier', validFor: '2h' },
        { id: 'no-expiry', kind: 'attach-certificate', certificate: 'origin', document: '${wait.report}', issuer: 'certifier' },
      ],
    });
    expect(checked.ok).toBe(true);
    const compiled = compileLifecycle((checked as { ok: true; definition: Parameters<typeof compileLifecycle>[0] }).definition, 1);
    expect(compiled.steps.map((step) => step.params)).toEqual([
      { event: 'tested', payload: { report: { type: 'document', required: false } } },
      { certificate: 'quality', document: '${wait.report}', issuer: 'certifier', validFor: '2h', validForMs: 7_200_000 },
      { certificate: 'origin', document: '${wait.report}', issuer: 'certifier', validForMs: null },
    ]);
  });
});

describe("checkStepEdits (the workflow's check of an operator's edited parameters)", () => {
  it("accepts a kind's own parameters and compiles them as publishing does", () => {
    expect(checkStepEdits('transfer', { participant: 'harbor-retail', to: 'retailer' })).toEqual({
      ok: true,
      params: { participant: 'harbor-retail', to: 'retailer' },
    });
    expect(checkStepEdits('attach-certificate', { validFor: '30d' })).toEqual({
      ok: true,
      params: { validFor: '30d', validForMs: 30 * 86_400_000 },
    });
    expect(checkStepEdits('assemble', { components: ['c-1', '${params.die}'] })).toEqual({
      ok: true,
      params: { components: ['c-1', '${params.die}'] },
    });
    expect(checkStepEdits('transfer', { to: '${params.role}' })).toMatchObject({ ok: true });
  });

  it('refuses what is not a parameter of the kind, with a suggestion and the list', () => {
    expect(checkStepEdits('transfer', { partcipant: 'x' })).toEqual({
      ok: false,
      problems: [
        {
          field: 'params.partcipant',
          message: 'not a parameter of a transfer step (did you mean "participant"?); its parameters: to, participant, part',
        },
      ],
    });
    expect(checkStepEdits('unbundle', { into: 'p' })).toEqual({
      ok: false,
      problems: [{ field: 'params.into', message: 'not a parameter of a unbundle step; its parameters: none' }],
    });
  });

  it('refuses values of the wrong shape and unknown roles, naming each field', () => {
    expect(checkStepEdits('attach-certificate', { issuer: 'certifer', validFor: 'soon', certificate: 'Bad Kind', document: '' })).toEqual({
      ok: false,
      problems: [
        {
          field: 'params.issuer',
          message:
            'unknown participant role "certifer" (did you mean "certifier"?); roles: miner, manufacturer, distributor, retailer, certifier',
        },
        { field: 'params.validFor', message: 'a duration such as 500ms, 30s, 5m, 2h or 7d' },
        { field: 'params.certificate', message: 'certificate kind: lowercase letters, digits and dashes, starting with a letter' },
        { field: 'params.document', message: 'expected a non-empty string' },
      ],
    });
    expect(checkStepEdits('certify', { requires: [] })).toMatchObject({ ok: false, problems: [{ field: 'params.requires' }] });
    expect(checkStepEdits('record', { data: ['x'] })).toEqual({
      ok: false,
      problems: [{ field: 'params.data', message: 'expected an object' }],
    });
    expect(checkStepEdits('mint', { from: [] })).toMatchObject({ ok: false, problems: [{ field: 'params.from' }] });
  });

  it('has nothing to edit on an await step, and takes only an object', () => {
    expect(checkStepEdits('await', {})).toEqual({ ok: true, params: {} });
    expect(checkStepEdits('await', { event: 'other' })).toEqual({
      ok: false,
      problems: [{ field: 'params.event', message: 'an await step has no parameters to edit; retry it as it is' }],
    });
    expect(checkStepEdits('mint', ['to'])).toEqual({
      ok: false,
      problems: [{ field: 'params', message: 'expected an object of step parameters' }],
    });
  });
});

describe('chain write keys', () => {
  const call = { partId: 'wafer-1', stepId: 'ship', run: 1, params: {} };

  it('name one run of one step, so a retried attempt finds its earlier write', () => {
    expect(writeKey('transfer', call)).toBe('transfer:wafer-1:ship');
    expect(writeKey('transfer', { ...call, revision: 0 })).toBe('transfer:wafer-1:ship');
    expect(writeKey('transfer', call, 'pallet-9')).toBe('transfer:wafer-1:ship:pallet-9');
  });

  it("differ for a loop's next run and for each edited retry", () => {
    expect(writeKey('record', { ...call, run: 2 })).toBe('record:wafer-1:ship:2');
    expect(writeKey('record', { ...call, revision: 1 })).toBe('record:wafer-1:ship:edit1');
    expect(writeKey('bundle', { ...call, run: 3, revision: 2 }, 'pallet-9')).toBe('bundle:wafer-1:ship:pallet-9:3:edit2');
    const keys = new Set(
      [call, { ...call, run: 2 }, { ...call, revision: 1 }, { ...call, run: 2, revision: 1 }].map((c) => writeKey('record', c)),
    );
    expect(keys.size).toBe(4);
  });

  it('carry the step that made the write as its origin', () => {
    expect(stepWrite('decommission', call)).toEqual({ key: 'decommission:wafer-1:ship', origin: { partId: 'wafer-1', stepId: 'ship' } });
  });
});
