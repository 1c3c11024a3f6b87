// Every shell example in README.md and docs/*.md, run against the real stack (Temporal, anvil,
// Azurite, SQL, worker and API, started once for the file) so an example cannot rot. Each page's
// blocks run in order in one reader's shell (see examples.ts) with A, the API's base URL, and KEY,
// the admin API key, as the docs tell a reader to set them. A block marked
// `not-run: covered by <test file>` must name a test file that exists. Lifecycle definitions shown in
// ```yaml blocks must validate.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../app/wiring/stack.js';
import { startTestStack, TEST_ADMIN_API_KEY } from '../support/env.js';
import { readLifecycleFile } from '../../domain/lifecycles/load.js';
import { fences, outputMatches, PageShell, shellBlocks } from './examples.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pages = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join('docs', f)),
];
const BLOCK_TIMEOUT_MS = 90_000;

let stack: Stack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(() => stack?.stop());

describe('docs examples', () => {
  it('mark every block they do not run with a test file that exists', () => {
    const problems: string[] = [];
    for (const page of pages) {
      for (const block of shellBlocks(join(ROOT, page))) {
        const where = `${page}:${block.line}`;
        if (block.notRunUnnamed) problems.push(`${where}: not-run must say "covered by <test file>"`);
        if (block.coveredBy && !existsSync(join(ROOT, block.coveredBy))) problems.push(`${where}: ${block.coveredBy} does not exist`);
        if (block.coveredBy && !/\.test\.ts$/.test(block.coveredBy)) problems.push(`${where}: ${block.coveredBy} is not a test file`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('keep the README short enough to read (about 12 KB; the rest lives in docs/)', () => {
    expect(readFileSync(join(ROOT, 'README.md')).length).toBeLessThanOrEqual(12 * 1024);
  });

  it('say what `npm start` is: `tracewell dev`, which test/e2e/dev-command.test.ts runs', () => {
    const scripts: Record<string, string> = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
    expect(scripts.start).toMatch(/app\/cli\/tracewell\.ts dev$/);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('`npm start` (`tracewell dev`)');
  });

  it("run README's test command as CI's last step", () => {
    const readme = shellBlocks(join(ROOT, 'README.md')).map((b) => b.code.trim());
    const ci = readFileSync(join(ROOT, '.ci', 'run'), 'utf8')
      .trim()
      .split('\n');
    expect(readme).toContain(ci.at(-1));
    expect(ci.at(-1)).toBe('npm test');
  });

  it('name only npm scripts that exist, with flags their scripts take', () => {
    const scripts: Record<string, string> = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts;
    const problems: string[] = [];
    let named = 0;
    for (const page of pages) {
      for (const [, name, flags = ''] of readFileSync(join(ROOT, page), 'utf8').matchAll(/`npm run ([\w:-]+)(?: -- ([^`]*))?`/g)) {
        named++;
        const script = scripts[name!];
        if (!script) {
          problems.push(`${page}: npm run ${name}: no such script`);
          continue;
        }
        const file = script.split(/\s+/).find((word) => word.endsWith('.ts'));
        const source = file ? readFileSync(join(ROOT, file), 'utf8') : '';
        for (const [, flag] of flags.matchAll(/--([\w-]+)/g)) {
          const takes = source.includes(`${flag}:`) || source.includes(`'${flag}':`);
          if (!takes) problems.push(`${page}: npm run ${name} -- --${flag}: ${file ?? script} takes no such option`);
        }
      }
    }
    expect(problems).toEqual([]);
    expect(named).toBeGreaterThan(0);
  });

  it('show lifecycle definitions that validate', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracewell-docs-lifecycles-'));
    let checked = 0;
    for (const page of pages) {
      for (const fence of fences(readFileSync(join(ROOT, page), 'utf8'))) {
        if (!/^ya?ml\b/.test(fence.info) || !/^steps:/m.test(fence.code)) continue;
        const file = join(dir, `${page.replace(/\W/g, '_')}-${fence.line}.yaml`);
        writeFileSync(file, fence.code);
        expect(() => readLifecycleFile(file), `${page}:${fence.line}`).not.toThrow();
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  for (const page of pages) {
    it(`${page}: every shell example runs`, { timeout: 10 * 60_000 }, async () => {
      const blocks = shellBlocks(join(ROOT, page)).filter((b) => !b.coveredBy && !b.notRunUnnamed);
      const shell = new PageShell({ ...process.env, A: stack.apiUrl, KEY: TEST_ADMIN_API_KEY }, ROOT);
      for (const block of blocks) {
        const result = await shell.run(block, BLOCK_TIMEOUT_MS);
        const where = `${relative(ROOT, block.file)}:${block.line}`;
        const killed = result.status === null ? ` (killed after ${BLOCK_TIMEOUT_MS / 1000} s)` : '';
        const report = `${where}${killed}\n$ ${block.code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
        expect(result.status, report).toBe(block.exit);
        if (block.output !== undefined)
          expect(outputMatches(block.output, result.stdout), `${report}\n--- shown\n${block.output}`).toBe(true);
      }
    });
  }
});
