// Pure parts of `tracewell ops`: --set parsing and the progress bar.
import { describe, expect, it } from 'vitest';
import { parseAssignments } from '../../app/cli/ops.js';
import { renderProgress } from '../../app/cli/progress.js';

describe('tracewell ops --set', () => {
  it('takes JSON values as such and anything else as a string', () => {
    expect(parseAssignments(['participant=northwind-logistics', 'count=3', 'components=["a","b"]', 'note=a=b'])).toEqual({
      participant: 'northwind-logistics',
      count: 3,
      components: ['a', 'b'],
      note: 'a=b',
    });
  });

  it('refuses a pair without a key', () => {
    expect(() => parseAssignments(['=x'])).toThrow(
      expect.objectContaining({ code: 'invalid_option', message: '--set =x: expected key=value' }),
    );
    expect(() => parseAssignments(['participant'])).toThrow('--set participant: expected key=value');
  });
});

describe('progress bar', () => {
  it('fills in proportion and shows counts and a note', () => {
    expect(renderProgress(0, 20, '', 10)).toBe('[..........] 0/20   0%');
    expect(renderProgress(5, 20, 'p1: skipped', 10)).toBe('[###.......] 5/20  25%  p1: skipped');
    expect(renderProgress(20, 20, '', 10)).toBe('[##########] 20/20 100%');
    expect(renderProgress(0, 0, '', 4)).toBe('[####] 0/0 100%');
  });
});
