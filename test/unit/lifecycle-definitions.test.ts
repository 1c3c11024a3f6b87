// Lifecycle definitions: every class of validation error a process engineer can meet, with the
// message they read, and the compiled form the interpreter runs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileLifecycle, contentHashOf } from '../../domain/lifecycles/compile.js';
import { lifecycleJsonSchemaText, SCHEMA_FILE } from '../../domain/lifecycles/json-schema.js';
import { LifecycleFileError, lifecycleFilesIn, parseLifecycle, readLifecycleFile } from '../../domain/lifecycles/load.js';
import { formatProblem } from '../../domain/lifecycles/validate.js';

/** The formatted problems of a YAML definition (as `validate` prints them), or [] when valid. */
function problems(yaml: string): string[] {
  const result = parseLifecycle(yaml);
  return result.ok ? [] : result.problems.map((problem) => formatProblem('test.yaml', problem));
}

const header = 'name: chip\nsteps:\n';

describe('lifecycle validation', () => {
  it('accepts the sample definitions in lifecycles/', () => {
    const files = lifecycleFilesIn('app/seed/lifecycles');
    expect(files.map((f) => f.split('/').pop())).toEqual(['chip.yaml', 'pallet.yaml', 'part-basic.yaml']);
    for (const file of files) expect(() => readLifecycleFile(file)).not.toThrow();
  });

  it('names an unknown role with the closest one, the step and the line', () => {
    const yaml = `${header}  - id: mine\n    kind: mint\n    to: miner\n  - id: ship\n    kind: transfer\n    to: distributer\n`;
    expect(problems(yaml)).toEqual([
      'test.yaml:8: steps[1].to [step "ship"]: unknown participant role "distributer" (did you mean "distributor"?); roles: miner, manufacturer, distributor, retailer, certifier',
    ]);
  });

  it('reports duplicate step ids, pointing at the first use', () => {
    const yaml = `${header}  - { id: mine, kind: mint, to: miner }\n  - { id: mine, kind: transfer, to: retailer }\n`;
    expect(problems(yaml)).toEqual(['test.yaml:4: steps[1].id [step "mine"]: duplicate step id "mine" (first used by steps[0])']);
  });

  it('reports unknown step kinds with a suggestion and the list of kinds', () => {
    const yaml = `${header}  - { id: mine, kind: mint, to: miner }\n  - { id: check, kind: certfy, requires: [quality] }\n`;
    expect(problems(yaml)).toEqual([
      'test.yaml:4: steps[1].kind [step "check"]: unknown step kind "certfy" (did you mean "certify"?); kinds: mint, transfer, await, record, attach-certificate, certify, bundle, unbundle, assemble, decommission',
    ]);
  });

  it('reports unreachable steps and says which jump skips them', () => {
    const yaml = `${header}  - { id: mine, kind: mint, to: miner, next: retail }\n  - { id: fab, kind: transfer, to: manufacturer }\n  - { id: retail, kind: transfer, to: retailer }\n`;
    expect(problems(yaml)).toEqual([
      'test.yaml:4: steps[1] [step "fab"]: unreachable: no step leads to "fab" (steps[0] "mine" jumps past it with next: retail)',
    ]);
    const afterEnd = `${header}  - { id: mine, kind: mint, to: miner, next: end }\n  - { id: fab, kind: transfer, to: manufacturer }\n`;
    expect(problems(afterEnd)).toEqual([
      'test.yaml:4: steps[1] [step "fab"]: unreachable: no step leads to "fab" (steps[0] "mine" jumps past it with next: end)',
    ]);
  });

  it('reports a loop that waits for nothing, and accepts one that waits', () => {
    const spinning = `${header}  - { id: mine, kind: mint, to: miner }\n  - { id: note, kind: record, event: noted, next: note2 }\n  - { id: note2, kind: record, event: noted, next: note }\n`;
    expect(problems(spinning)).toEqual([
      'test.yaml:5: steps[2].next [step "note2"]: loops back to "note" with no await step in between, so it would never end',
    ]);
    const waiting = `${header}  - { id: mine, kind: mint, to: miner }\n  - { id: inspect, kind: await, event: inspected, payload: { passed: { type: boolean, required: true } } }\n  - { id: rework, kind: record, event: rework, when: { var: inspect.passed, equals: false }, next: inspect }\n`;
    expect(problems(waiting)).toEqual([]);
  });

  it('reports unknown next targets and references with suggestions', () => {
    const yaml = [
      'name: chip',
      'params:',
      '  pallet: { type: part, required: true }',
      'steps:',
      '  - { id: mine, kind: mint, to: miner, next: shipp }',
      '  - { id: ship, kind: transfer, to: distributor, part: "${params.palet}" }',
      '  - { id: report, kind: await, event: report, payload: { document: { type: hash } } }',
      '  - { id: attach, kind: attach-certificate, certificate: quality, document: "${report.documnt}", issuer: certifier }',
      '  - { id: early, kind: bundle, into: "${late.bundle}" }',
      '  - { id: late, kind: bundle, into: "${mine.tokenid}" }',
      '',
    ].join('\n');
    expect(problems(yaml)).toEqual([
      'test.yaml:5: steps[0].next [step "mine"]: unknown step "shipp" (did you mean "ship"?)',
      'test.yaml:6: steps[1].part [step "ship"]: unknown parameter "palet" in ${params.palet} (did you mean "pallet"?); declare it under params:',
      'test.yaml:8: steps[3].document [step "attach"]: step "report" (await) has no output "documnt" (did you mean "document"?); it has document',
      'test.yaml:9: steps[4].into [step "early"]: ${late.bundle} refers to step "late", which comes later and has not run yet',
      'test.yaml:10: steps[5].into [step "late"]: step "mine" (mint) has no output "tokenid" (did you mean "tokenId"?); it has tokenId, owner, txHash',
    ]);
  });

  it('reports missing and unknown fields of a kind, and malformed values', () => {
    const yaml = `${header}  - id: mine\n    kind: mint\n  - id: ship\n    kind: transfer\n    to: retailer\n    destination: x\n  - id: wait\n    kind: await\n    event: Shipped\n    timeout: soon\n`;
    expect(problems(yaml)).toEqual([
      'test.yaml:3: steps[0].to [step "mine"]: required',
      'test.yaml:8: steps[1].destination [step "ship"]: unknown field "destination" for a transfer step',
      'test.yaml:11: steps[2].event [step "wait"]: event: lowercase letters, digits and dashes, starting with a letter',
      'test.yaml:12: steps[2].timeout [step "wait"]: a duration such as 500ms, 30s, 5m, 2h or 7d',
    ]);
  });

  it('reports reserved event names, literal values of the wrong shape and header problems', () => {
    const yaml = `name: Chip\ncolour: red\nsteps:\n  - { id: wait, kind: await, event: operator }\n  - { id: attach, kind: attach-certificate, certificate: quality, document: "0x12", issuer: certifier }\n`;
    expect(problems(yaml)).toEqual([
      'test.yaml:1: name: lifecycle name: lowercase letters, digits and dashes, starting with a letter',
      'test.yaml:2: colour: unknown field "colour"',
      'test.yaml:4: steps[0].event [step "wait"]: "operator" is reserved by the part workflow; choose another event name',
      'test.yaml:5: steps[1].document [step "attach"]: expected a document id, its 0x-prefixed SHA-256 hash, or a reference such as ${report.document}',
    ]);
    expect(problems('name: chip\nsteps: []\n')).toEqual(['test.yaml:2: steps: Too small: expected array to have >=1 items']);
    expect(problems('name: chip\nsteps:\n  - { id: a, kind: mint, to: miner\n')[0]).toMatch(/^test\.yaml:\d+: \(syntax\): Flow map/);
  });

  it('checks references against the declared params even when the header has problems of its own', () => {
    const yaml =
      'name: Bad Name\nparams:\n  pallet: { type: part }\nsteps:\n  - { id: box, kind: bundle, into: "${params.pallet}" }\n  - { id: make, kind: assemble, components: "not a part" }\n';
    expect(problems(yaml)).toEqual([
      'test.yaml:1: name: lifecycle name: lowercase letters, digits and dashes, starting with a letter',
      'test.yaml:6: steps[1].components [step "make"]: "not a part" is not a part id',
    ]);
  });

  it('reads JSON as well as YAML, with line numbers', () => {
    const json = '{\n  "name": "chip",\n  "steps": [\n    { "id": "mine", "kind": "mint", "to": "minor" }\n  ]\n}\n';
    expect(problems(json)).toEqual([
      'test.yaml:4: steps[0].to [step "mine"]: unknown participant role "minor" (did you mean "miner"?); roles: miner, manufacturer, distributor, retailer, certifier',
    ]);
  });

  it('throws a LifecycleFileError naming the file for readLifecycleFile', () => {
    expect(() => readLifecycleFile('app/seed/lifecycles/no-such.yaml')).toThrow(LifecycleFileError);
  });
});

describe('compiled definitions', () => {
  it('turn durations into milliseconds and fill in defaults', () => {
    const result = parseLifecycle(
      `${header}  - id: mine\n    kind: mint\n    to: miner\n    timeout: 2m\n    retry: { initialInterval: 250ms, maximumAttempts: 3, nonRetryableErrorCodes: [RoleMismatch] }\n  - { id: wait, kind: await, event: done, timeout: 7d, onFailure: fail, payload: { ok: { type: boolean } } }\n`,
    );
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const compiled = compileLifecycle(result.definition, 4);
    expect(compiled.version).toBe(4);
    expect(compiled.steps[0]).toEqual({
      id: 'mine',
      kind: 'mint',
      params: { to: 'miner' },
      onFailure: 'park',
      timeoutMs: 120_000,
      retry: { initialIntervalMs: 250, maximumAttempts: 3, nonRetryableErrorCodes: ['RoleMismatch'] },
    });
    expect(compiled.steps[1]).toMatchObject({
      kind: 'await',
      timeoutMs: 7 * 86_400_000,
      onFailure: 'fail',
      params: { event: 'done', payload: { ok: { type: 'boolean', required: false } } },
    });
  });

  it('have a content hash that ignores the version and key order', () => {
    const a = parseLifecycle('name: p\nversion: 1\nsteps:\n  - { id: m, kind: mint, to: miner }\n');
    const b = parseLifecycle('version: 7\nsteps:\n  - { to: miner, kind: mint, id: m }\nname: p\n');
    const c = parseLifecycle('name: p\nsteps:\n  - { id: m, kind: mint, to: manufacturer }\n');
    if (!a.ok || !b.ok || !c.ok) throw new Error('expected valid definitions');
    expect(contentHashOf(a.definition)).toBe(contentHashOf(b.definition));
    expect(contentHashOf(a.definition)).not.toBe(contentHashOf(c.definition));
  });

  it('publish a JSON Schema that matches the validator (run `npm run lifecycles:schema` after changing it)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(lifecycleJsonSchemaText());
    const schema = JSON.parse(lifecycleJsonSchemaText());
    const kinds = schema.properties.steps.items.oneOf ?? schema.properties.steps.items.anyOf;
    expect(kinds.map((k: any) => k.properties.kind.const)).toEqual([
      'mint',
      'transfer',
      'await',
      'record',
      'attach-certificate',
      'certify',
      'bundle',
      'unbundle',
      'assemble',
      'decommission',
    ]);
  });
});
