// The wait indicator on a stream that is not a terminal (a CI log, a pipe): plain lines, never
// spinner frames. The clock is injected, so nothing here waits.
import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { endLinesTo, formatElapsed, spinnerOn } from '../../app/devstack/wait-indicator.js';

/** A real stream that says it is no terminal, and everything written to it. */
function pipe(): { stream: PassThrough & { isTTY: boolean }; lines: () => string[]; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY: false });
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
  return {
    stream,
    text: () => written,
    // Colours may or may not be on, depending on the terminal the tests run in: compare plain text.
    lines: () => stripVTControlCharacters(written).split('\n').filter(Boolean),
  };
}

/** A clock that moves only when told. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('spinnerOn, on a stream that is not a terminal', () => {
  it('prints a line when a wait begins, one every N notes, and one when it ends', async () => {
    const out = pipe();
    const clock = manualClock();
    const wait = spinnerOn(out.stream, { plainEvery: 50, plainEveryMs: 10_000, now: clock.now }).begin('building the Temporal CLI');
    for (let n = 1; n <= 120; n++) {
      clock.advance(10); // 1.2 s in all: the time rule never fires
      wait.note(`${n} packages built, now example.com/pkg${n}`);
    }
    wait.succeed('built the Temporal CLI');
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.lines()).toEqual([
      '- building the Temporal CLI',
      '  building the Temporal CLI: 50 packages built, now example.com/pkg50 (500 ms)',
      '  building the Temporal CLI: 100 packages built, now example.com/pkg100 (1.0 s)',
      expect.stringMatching(/^\S+ built the Temporal CLI \(1\.2 s\)$/),
    ]);
    // No spinner frames, cursor moves or carriage returns in a log.
    for (const frameControl of ['\r', '\u001b[?25l', '\u001b[?25h', '\u001b[1G', '\u001b[0K'])
      expect(out.text()).not.toContain(frameControl);
  });

  it('prints a note once the last line is plainEveryMs old, however few notes came', async () => {
    const out = pipe();
    const clock = manualClock();
    const wait = spinnerOn(out.stream, { plainEvery: 1_000, plainEveryMs: 10_000, now: clock.now }).begin('starting anvil');
    wait.note('first');
    clock.advance(9_999);
    wait.note('second');
    clock.advance(1);
    wait.note('third');
    clock.advance(5_000);
    wait.note('fourth');
    clock.advance(5_000);
    wait.note('fifth');
    clock.advance(61_000);
    wait.fail('anvil did not start');
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.lines()).toEqual([
      '- starting anvil',
      '  starting anvil: third (10.0 s)',
      '  starting anvil: fifth (20.0 s)',
      expect.stringMatching(/^\S+ anvil did not start \(1 min 21 s\)$/),
    ]);
  });

  it('keeps each wait to its own count and clock', async () => {
    const out = pipe();
    const clock = manualClock();
    const waits = spinnerOn(out.stream, { plainEvery: 2, now: clock.now });
    const first = waits.begin('one');
    first.note('a');
    first.succeed('one done');
    clock.advance(2_500);
    const second = waits.begin('two');
    second.note('b');
    second.note('c');
    clock.advance(300);
    second.succeed('two done');
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.lines()).toEqual([
      '- one',
      expect.stringMatching(/^\S+ one done \(0 ms\)$/),
      '- two',
      '  two: c (0 ms)',
      expect.stringMatching(/^\S+ two done \(300 ms\)$/),
    ]);
  });
});

describe('spinnerOn, on a terminal that reports no width', () => {
  it('prints plain lines rather than frames it cannot size', async () => {
    const out = pipe();
    const terminal = Object.assign(out.stream, { isTTY: true, columns: 0 });
    const clock = manualClock();
    const wait = spinnerOn(terminal, { plainEvery: 1, now: clock.now }).begin('starting anvil');
    wait.note('listening');
    clock.advance(120);
    wait.succeed('anvil ready');
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.lines()).toEqual([
      '- starting anvil',
      '  starting anvil: listening (0 ms)',
      expect.stringMatching(/^\S+ anvil ready \(120 ms\)$/),
    ]);
  });
});

describe('endLinesTo', () => {
  it('logs only how each wait ended', () => {
    const logged: string[] = [];
    const waits = endLinesTo((line) => logged.push(line));
    const wait = waits.begin('starting Azurite');
    wait.note('listening');
    wait.succeed('azurite ready at http://127.0.0.1:10000');
    waits.begin('starting the API').fail('starting the API: failed');
    expect(logged).toEqual(['azurite ready at http://127.0.0.1:10000', 'starting the API: failed']);
  });
});

describe('formatElapsed', () => {
  it('reads as milliseconds, seconds, or minutes and seconds', () => {
    expect(formatElapsed(850)).toBe('850 ms');
    expect(formatElapsed(1_000)).toBe('1.0 s');
    expect(formatElapsed(59_940)).toBe('59.9 s');
    expect(formatElapsed(60_000)).toBe('1 min 00 s');
    expect(formatElapsed(125_400)).toBe('2 min 05 s');
  });
});
