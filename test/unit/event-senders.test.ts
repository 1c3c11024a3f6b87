// Who may send a part's event: the company bound to the step's `by:` role, else the part's holder
// (or its starter before the token exists); admins and operators always. Checked as data here; the
// authz suite (test/e2e/authz.test.ts) checks the API and the intake enforce it.
import { describe, expect, it } from 'vitest';
import { checkSender, senderOf } from '../../domain/commands/event-senders.js';
import type { PartParties } from '../../domain/commands/event-senders.js';
import { compileLifecycle } from '../../domain/lifecycles/compile.js';
import { parseLifecycle } from '../../domain/lifecycles/load.js';
import { isCoded } from '../../domain/errors/coded-error.js';
import { Errors } from '../../domain/errors/catalogue.js';
import { rolesToBind } from '../../workflows/role-bindings.js';

const chip = `
name: chip
steps:
  - { id: make, kind: mint, to: miner }
  - { id: manufactured, kind: await, event: manufactured, by: manufacturer }
  - { id: report, kind: await, event: quality-report, by: certifier }
  - { id: sold, kind: await, event: sold }
`;

function compiled(yaml: string) {
  const parsed = parseLifecycle(yaml);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  return compileLifecycle(parsed.definition, 1);
}

const lifecycle = compiled(chip);
const step = (id: string) => lifecycle.steps.find((s) => s.id === id)!;
const parties: PartParties = {
  roles: { miner: 'sierra-mining', manufacturer: 'acme-foundry', certifier: 'tuv-assurance' },
  holder: 'acme-foundry',
};
const who = (id: string, roles: string[] = ['retailer']) => ({ id, roles });

/** The refusal's message, or 'allowed'. */
function outcome(sender: { id: string; roles: string[] }, stepId: string, partParties: PartParties = parties): string {
  try {
    checkSender(sender, 'chip-1', step(stepId).params.event as string, [step(stepId)], partParties);
    return 'allowed';
  } catch (error) {
    if (!isCoded(error, Errors.event_not_allowed)) throw error;
    expect(error.status).toBe(403);
    return error.message;
  }
}

describe('who may send an event', () => {
  it('binds the roles `by:` names at start, like the roles steps send tokens to', () => {
    expect(rolesToBind(lifecycle)).toEqual(['miner', 'manufacturer', 'certifier']);
  });

  it('takes a `by:` step only from the company bound to its role', () => {
    expect(outcome(who('acme-foundry', ['manufacturer']), 'manufactured')).toBe('allowed');
    expect(outcome(who('tuv-assurance', ['certifier']), 'report')).toBe('allowed');
    // The holder is not the certifier: holding the part does not make its reports.
    expect(outcome(who('acme-foundry', ['manufacturer']), 'report')).toBe(
      'participant "acme-foundry" may not send "quality-report" to part "chip-1": only "tuv-assurance" (the part\'s certifier) or an admin or operator may send it',
    );
    // Holding the role is not enough: another manufacturer is not this part's manufacturer.
    expect(outcome(who('delta-fab', ['manufacturer']), 'manufactured')).toMatch(/^participant "delta-fab" may not send "manufactured"/);
  });

  it('takes a step without `by:` from the holder, or before the token exists from the starter', () => {
    expect(outcome(who('acme-foundry', ['manufacturer']), 'sold')).toBe('allowed');
    expect(outcome(who('harbor-retail'), 'sold')).toBe(
      'participant "harbor-retail" may not send "sold" to part "chip-1": only "acme-foundry" (the part\'s holder) or an admin or operator may send it',
    );
    const unminted = { roles: parties.roles, holder: null, createdBy: 'sierra-mining' };
    expect(outcome(who('sierra-mining', ['miner']), 'sold', unminted)).toBe('allowed');
    expect(outcome(who('acme-foundry', ['manufacturer']), 'sold', unminted)).toMatch(
      /only "sierra-mining" \(the participant that started the part\)/,
    );
  });

  it('lets admins and operators send any event', () => {
    for (const role of ['admin', 'operator']) {
      for (const id of ['manufactured', 'report', 'sold']) expect(outcome(who('ops-desk', [role]), id)).toBe('allowed');
    }
    expect(outcome(who('engineer', ['process-engineer']), 'sold')).toMatch(/may not send/);
  });

  it('says when nobody is bound to the role (a part started before `by:`): only admins and operators then', () => {
    expect(senderOf(step('manufactured'), { roles: {} })).toEqual({ participant: undefined, as: "the part's manufacturer" });
    expect(outcome(who('acme-foundry', ['manufacturer']), 'manufactured', { roles: {}, holder: 'acme-foundry' })).toMatch(
      /only the part's manufacturer \(not known yet\) or an admin or operator/,
    );
  });

  it('refuses an unknown `by:` role with a suggestion', () => {
    const parsed = parseLifecycle(chip.replace('by: certifier', 'by: certifer'));
    expect(parsed.ok ? [] : parsed.problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'steps[2].by: unknown participant role "certifer" (did you mean "certifier"?); roles: miner, manufacturer, distributor, retailer, certifier',
    ]);
  });
});
