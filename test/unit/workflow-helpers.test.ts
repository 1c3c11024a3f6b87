// The pure helpers the part workflow runs, without a server: `${...}` references, `when`
// conditions and field checks (params and event payloads).
import { describe, expect, it } from 'vitest';
import { UnresolvedReferenceError, checkFields, conditionHolds, resolveValue } from '../../workflows/definition.js';
import type { FieldSpecs } from '../../workflows/definition.js';

const variables = { params: { lot: 'L-7', crates: 3, pallets: ['p-1', 'p-2'] }, inspect: { passed: true, grade: null } };

describe('resolveValue', () => {
  it('replaces a whole-string reference by the value itself, keeping its type', () => {
    expect(resolveValue('${params.crates}', variables)).toBe(3);
    expect(resolveValue('${ params.pallets }', variables)).toEqual(['p-1', 'p-2']);
    expect(resolveValue('${inspect.grade}', variables)).toBeNull();
  });

  it('interpolates references inside longer strings, JSON for non-strings', () => {
    expect(resolveValue('lot-${params.lot}/${params.crates}', variables)).toBe('lot-L-7/3');
    expect(resolveValue('ok=${inspect.passed} ${params.pallets}', variables)).toBe('ok=true ["p-1","p-2"]');
  });

  it('resolves objects and arrays member by member and leaves other values alone', () => {
    expect(
      resolveValue({ into: '${params.pallets}', meta: { lot: '${params.lot}', n: 1 }, list: ['${params.crates}', false] }, variables),
    ).toEqual({
      into: ['p-1', 'p-2'],
      meta: { lot: 'L-7', n: 1 },
      list: [3, false],
    });
    expect(resolveValue(42, variables)).toBe(42);
    expect(resolveValue('no refs', variables)).toBe('no refs');
  });

  it('refuses a reference without a value, naming it', () => {
    expect(() => resolveValue('${params.missing}', variables)).toThrow(UnresolvedReferenceError);
    expect(() => resolveValue('lot ${ship.txHash}', variables)).toThrow('${ship.txHash} has no value');
    expect(() => resolveValue({ deep: ['${params.lot.x}'] }, variables)).toThrow(UnresolvedReferenceError);
  });
});

describe('conditionHolds', () => {
  it('compares by value, objects included', () => {
    expect(conditionHolds({ var: 'inspect.passed', equals: true }, variables)).toBe(true);
    expect(conditionHolds({ var: 'params.pallets', equals: ['p-1', 'p-2'] }, variables)).toBe(true);
    expect(conditionHolds({ var: 'params.crates', equals: '3' }, variables)).toBe(false);
    expect(conditionHolds({ var: 'params.lot', notEquals: 'L-8' }, variables)).toBe(true);
    expect(conditionHolds({ var: 'params.lot', notEquals: 'L-7' }, variables)).toBe(false);
  });

  it('tests membership and existence (null exists, a missing path does not)', () => {
    expect(conditionHolds({ var: 'params.crates', in: [1, 2, 3] }, variables)).toBe(true);
    expect(conditionHolds({ var: 'params.crates', in: [4] }, variables)).toBe(false);
    expect(conditionHolds({ var: 'inspect.grade', exists: true }, variables)).toBe(true);
    expect(conditionHolds({ var: 'ship.txHash', exists: false }, variables)).toBe(true);
    expect(conditionHolds({ var: 'params.lot.deeper', exists: true }, variables)).toBe(false);
  });
});

describe('checkFields', () => {
  const specs: FieldSpecs = {
    buyer: { type: 'participant', required: true },
    crates: { type: 'integer', required: false, min: 1, max: 10 },
    grade: { type: 'string', required: false, enum: ['A', 'B'] },
    pallets: { type: 'parts', required: false },
    report: { type: 'document', required: false },
    signed: { type: 'boolean', required: false },
  };

  it('accepts a payload that keeps the declarations', () => {
    expect(
      checkFields(specs, {
        buyer: 'harbor-retail',
        crates: 10,
        grade: 'B',
        pallets: ['p-1'],
        report: `0x${'ab'.repeat(32)}`,
        signed: false,
      }),
    ).toEqual([]);
    expect(checkFields({}, {})).toEqual([]);
  });

  it('names every problem by field: missing, wrong type, out of range, undeclared', () => {
    expect(checkFields(specs, { crates: 0, grade: 'C', pallets: ['p-1', 'p-1'], report: 'doc', signed: 'yes', colour: 'red' })).toEqual([
      { field: 'buyer', message: 'required' },
      { field: 'crates', message: 'must be at least 1' },
      { field: 'grade', message: 'expected one of "A", "B"' },
      { field: 'pallets', message: 'lists a part twice' },
      { field: 'report', message: 'expected a document id or its 0x-prefixed SHA-256 hash' },
      { field: 'signed', message: 'expected true or false' },
      { field: 'colour', message: 'not declared (declared: buyer, crates, grade, pallets, report, signed)' },
    ]);
    expect(checkFields(specs, { buyer: 'Not An Id', crates: 2.5 })).toEqual([
      { field: 'buyer', message: 'expected a participant id' },
      { field: 'crates', message: 'expected an integer' },
    ]);
  });

  it('refuses anything but an object', () => {
    for (const body of [null, [], 'x', 3]) expect(checkFields(specs, body)).toEqual([{ field: '(body)', message: 'expected an object' }]);
  });
});
