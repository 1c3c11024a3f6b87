// The docs test's own machinery, without a server: which fenced blocks are examples, what they expect,
// and a reader's shell that carries state from block to block and fails on the first failing command.
import { describe, expect, it } from 'vitest';
import { outputMatches, PageShell, shellBlocks } from './examples.js';

const page = [
  '# A page',
  '```sh',
  'X=1',
  '```',
  '',
  '```json output',
  '{"a":1}',
  '```',
  '```yaml',
  'not: a shell block',
  '```',
  '```sh exit=22',
  'curl -s $A/nope',
  '```',
  'text between',
  '```text output',
  "not this block's output: text stands between them",
  '```',
  '```bash not-run: covered by test/e2e/dev-command.test.ts',
  'npm start',
  '```',
  '```sh not-run',
  'rm -rf /',
  '```',
].join('\n');

describe('shellBlocks', () => {
  const blocks = shellBlocks('page.md', page);

  it('takes sh and bash fences, with their line, expected exit status and output', () => {
    expect(blocks.map((b) => [b.line, b.code, b.exit, b.output])).toEqual([
      [2, 'X=1', 0, '{"a":1}'],
      [12, 'curl -s $A/nope', 22, undefined],
      [19, 'npm start', 0, undefined],
      [22, 'rm -rf /', 0, undefined],
    ]);
  });

  it('reads the test a not-run block names, and flags one that names none', () => {
    expect(blocks.map((b) => [b.coveredBy, b.notRunUnnamed])).toEqual([
      [undefined, false],
      [undefined, false],
      ['test/e2e/dev-command.test.ts', false],
      [undefined, true],
    ]);
  });

  it('refuses a fence left open', () => {
    expect(() => shellBlocks('open.md', '```sh\necho hi\n')).toThrow('line 1: unclosed code fence');
  });
});

describe('outputMatches', () => {
  it('reads "…" as any text and blanks as any blanks, over the whole output', () => {
    expect(outputMatches('{"id":"…","version":1,…}', '{"id":"x-1","version":1,"size":3}')).toBe(true);
    expect(outputMatches('{"id":"…","version":1,…}', '{"id":"x-1","version":2,"size":3}')).toBe(false);
    expect(outputMatches('a\n  b', 'a b\n')).toBe(true);
    expect(outputMatches('a', 'a b')).toBe(false);
    expect(outputMatches('(1+1)', '(1+1)')).toBe(true);
  });
});

describe('PageShell', () => {
  const block = (code: string) => ({ file: 'page.md', line: 1, code, exit: 0 });

  it("carries variables and functions from block to block, as a reader's shell does", async () => {
    const shell = new PageShell({ PATH: process.env.PATH }, process.cwd());
    expect((await shell.run(block('PART=urn:example:1; greet() { echo "hello $1"; }'), 10_000)).status).toBe(0);
    expect(await shell.run(block('greet "$PART"'), 10_000)).toMatchObject({ status: 0, stdout: 'hello urn:example:1\n' });
  });

  it('stops a block at its first failing command, in a pipeline too', async () => {
    const shell = new PageShell({ PATH: process.env.PATH }, process.cwd());
    expect(await shell.run(block('false\necho after'), 10_000)).toMatchObject({ status: 1, stdout: '' });
    expect(await shell.run(block('false | cat\necho after'), 10_000)).toMatchObject({ status: 1, stdout: '' });
    expect(await shell.run(block('echo "$UNSET_VARIABLE"'), 10_000)).toMatchObject({ status: 1 });
  });

  it('kills a block that hangs', async () => {
    const shell = new PageShell({ PATH: process.env.PATH }, process.cwd());
    expect((await shell.run(block('sleep 30'), 500)).status).toBeNull();
  });
});
