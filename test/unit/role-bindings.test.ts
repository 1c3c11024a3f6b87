// Role bindings as data: which roles a lifecycle leaves for the part's start to bind, how a bound
// participant fills a step, what a start can already tell about the parts it is made from, and the
// checks on a definition's `roles:` block.
import { describe, expect, it } from 'vitest';
import { compileLifecycle } from '../../domain/lifecycles/compile.js';
import { parseLifecycle } from '../../domain/lifecycles/load.js';
import { madeFromAtStart } from '../../domain/commands/role-bindings.js';
import { boundRoleOf, rolesToBind, withBoundParticipant } from '../../workflows/role-bindings.js';

function compiled(yaml: string) {
  const parsed = parseLifecycle(yaml);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  return compileLifecycle(parsed.definition, 1);
}

const chipLine = `
name: chip-line
params:
  wafer: { type: part, required: true }
  fab: { type: participant }
roles:
  manufacturer: { rule: caller, default: acme-foundry }
steps:
  - { id: make, kind: mint, to: manufacturer, from: "\${params.wafer}" }
  - { id: check, kind: attach-certificate, certificate: quality, document: "0x${'ab'.repeat(32)}", issuer: certifier }
  - { id: ship, kind: transfer, to: distributor, participant: "\${params.fab}" }
  - { id: sold, kind: await, event: sold }
  - { id: sell, kind: transfer, to: retailer }
`;

describe('role bindings', () => {
  const lifecycle = compiled(chipLine);

  it('binds the roles steps name without a participant, once each, in step order', () => {
    expect(rolesToBind(lifecycle)).toEqual(['manufacturer', 'certifier', 'retailer']);
    expect(lifecycle.steps.map(boundRoleOf)).toEqual(['manufacturer', 'certifier', undefined, undefined, 'retailer']);
  });

  it('fills the bound participant into a step that names none, and leaves a named one alone', () => {
    const [make, , ship] = lifecycle.steps;
    const bindings = { manufacturer: 'delta-fab', distributor: 'southgate-freight' };
    expect(withBoundParticipant(make!, { to: 'manufacturer' }, bindings)).toEqual({ to: 'manufacturer', participant: 'delta-fab' });
    expect(withBoundParticipant(ship!, { to: 'distributor', participant: 'northwind-logistics' }, bindings)).toEqual({
      to: 'distributor',
      participant: 'northwind-logistics',
    });
    // Parts started before bindings existed have none: their steps run exactly as before.
    expect(withBoundParticipant(make!, { to: 'manufacturer' }, undefined)).toEqual({ to: 'manufacturer' });
  });

  it('an operator retry that names a participant wins over the binding', () => {
    const [make] = lifecycle.steps;
    expect(withBoundParticipant(make!, { to: 'manufacturer', participant: 'acme-foundry' }, { manufacturer: 'delta-fab' })).toMatchObject({
      participant: 'acme-foundry',
    });
  });

  it('knows at start the parents its params name, not those a later step produces', () => {
    expect(madeFromAtStart(lifecycle, { wafer: 'wafer-7' })).toEqual(['wafer-7']);
    const assembly = compiled(`
name: product
params:
  chips: { type: parts, required: true }
steps:
  - { id: make, kind: mint, to: manufacturer }
  - { id: pick, kind: await, event: pick, payload: { extra: { type: parts } } }
  - { id: fit, kind: assemble, components: "\${params.chips}" }
  - { id: fit-more, kind: assemble, components: ["\${pick.extra}", lot-1] }
`);
    expect(madeFromAtStart(assembly, { chips: ['c-1', 'c-2'] })).toEqual(['c-1', 'c-2', 'lot-1']);
  });
});

describe("a definition's roles block", () => {
  const problems = (yaml: string) => {
    const parsed = parseLifecycle(yaml);
    return parsed.ok ? [] : parsed.problems.map((p) => `${p.path}: ${p.message}`);
  };

  it('is compiled with the version', () => {
    expect(compiled(chipLine).roles).toEqual({ manufacturer: { rule: 'caller', default: 'acme-foundry' } });
  });

  it('refuses an unknown role with a suggestion, and a role no step leaves to be bound', () => {
    expect(
      problems(
        chipLine
          .replace('manufacturer: { rule', 'manufacturr: { rule')
          .replace('roles:\n', 'roles:\n  distributor: { default: northwind-logistics }\n'),
      ),
    ).toEqual([
      'roles.distributor: no step addresses "distributor" without a participant, so nothing uses this (the steps bind manufacturer, certifier, retailer)',
      'roles.manufacturr: unknown participant role "manufacturr" (did you mean "manufacturer"?); roles: miner, manufacturer, distributor, retailer, certifier',
    ]);
  });

  it('refuses an unknown rule and a default that is no participant id', () => {
    expect(problems(chipLine.replace('{ rule: caller, default: acme-foundry }', '{ rule: owner, default: Acme }'))).toEqual([
      'roles.manufacturer.rule: expected "caller"',
      'roles.manufacturer.default: a participant id: 2 to 63 characters: lowercase letters, digits and hyphens, starting with a letter or digit',
    ]);
  });
});
