// The function-length report behind `npm run longest-functions`: lengths span signature to closing
// brace with nested functions included, and each function gets the name a reader would search for.
import { describe, expect, it } from 'vitest';
import { functionLengths } from '../../tools/metrics/longest-functions.js';

const SOURCE = `export function outer(a: number) {
  const inner = (b: number) => {
    return b + 1;
  };
  return inner(a);
}
class Box {
  constructor() {}
  get size() { return 1; }
}
const table = { row: function () { return 2; } };
[1].map((x) => x);
declare function ambient(): void;
`;

describe('functionLengths', () => {
  it('measures each function with a body, nested ones included, and names it', () => {
    const found = functionLengths('sample.ts', SOURCE).map(({ name, line, lines }) => ({ name, line, lines }));
    expect(found).toEqual([
      { name: 'outer', line: 1, lines: 6 },
      { name: 'inner', line: 2, lines: 3 },
      { name: 'constructor', line: 8, lines: 1 },
      { name: 'size', line: 9, lines: 1 },
      { name: 'row', line: 11, lines: 1 },
      { name: '<callback of [1].map>', line: 12, lines: 1 },
    ]);
  });
});
