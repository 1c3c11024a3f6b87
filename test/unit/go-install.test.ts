// goInstall, the way ensureTemporalCli builds the Temporal CLI, run for real on a tiny local Go
// module (no network): each package go builds becomes a counted note, and a failed build says why.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { goInstall, TemporalCliNotFoundError } from '../../app/devstack/temporal-cli.js';
import { spinnerOn } from '../../app/devstack/wait-indicator.js';

const goAvailable = (() => {
  try {
    execFileSync('go', ['version']);
    return true;
  } catch {
    return false;
  }
})();

const work = mkdtempSync(join(tmpdir(), 'tracewell-go-install-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A module with a library and a command; a fresh module path each run, so go builds it rather than reuse its cache. */
function module(name: string, libSource: string): { dir: string; path: string } {
  const path = `example.com/tracewell-test/${name}${Date.now().toString(36)}`;
  const dir = join(work, name);
  mkdirSync(join(dir, 'lib'), { recursive: true });
  writeFileSync(join(dir, 'go.mod'), `module ${path}\n\ngo 1.21\n`);
  writeFileSync(join(dir, 'lib', 'lib.go'), libSource);
  writeFileSync(join(dir, 'main.go'), `package main\n\nimport "${path}/lib"\n\nfunc main() { println(lib.Greeting()) }\n`);
  return { dir, path };
}

function goEnv(): NodeJS.ProcessEnv {
  // GOTOOLCHAIN=local: never download a toolchain; GOPROXY=off: nothing to fetch.
  return { ...process.env, GOBIN: join(work, 'bin'), GOPROXY: 'off', GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' };
}

function plainStream() {
  const stream = Object.assign(new PassThrough(), { isTTY: false });
  let written = '';
  stream.on('data', (chunk: Buffer) => (written += chunk.toString()));
  return {
    stream,
    lines: () => stripVTControlCharacters(written).split('\n').filter(Boolean),
  };
}

describe.skipIf(!goAvailable)('goInstall (needs Go on PATH)', () => {
  it('notes each package go builds, with a count', async () => {
    const { dir, path } = module('hello', 'package lib\n\nfunc Greeting() string { return "hello" }\n');
    const out = plainStream();
    const wait = spinnerOn(out.stream, { plainEvery: 1 }).begin('building hello');
    await goInstall('.', wait, { cwd: dir, env: goEnv() });
    wait.succeed('built hello');
    await new Promise((resolve) => setImmediate(resolve));
    const notes = out.lines().filter((line) => line.startsWith('  building hello: '));
    expect(notes.map((line) => line.replace(/ \([^)]*\)$/, ''))).toEqual([
      `  building hello: 1 packages built, now ${path}/lib`,
      `  building hello: 2 packages built, now ${path}`,
    ]);
    // go names the binary after the last element of the module path.
    expect(existsSync(join(work, 'bin', path.split('/').at(-1)!))).toBe(true);
  }, 120_000);

  it("rejects with go's own error when the build fails", async () => {
    const { dir } = module('broken', 'package lib\n\nfunc Greeting() string { return 42 }\n');
    const out = plainStream();
    const wait = spinnerOn(out.stream).begin('building broken');
    const failure = goInstall('.', wait, { cwd: dir, env: goEnv() });
    await expect(failure).rejects.toThrow(TemporalCliNotFoundError);
    await expect(failure).rejects.toThrow(/exited with code 1:[\s\S]*lib\.go:3:\d+: cannot use 42/);
  }, 120_000);
});
