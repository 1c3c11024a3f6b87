// Finds the `temporal` CLI (which embeds the real Temporal dev server): TEMPORAL_CLI, then PATH,
// then Go's bin folder; failing those, builds it with `go install` when Go is present.
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { homedir } from 'node:os';
import { promisify } from 'node:util';
import { endLinesTo } from './wait-indicator.js';
import type { Wait, WaitIndicator } from './wait-indicator.js';

const run = promisify(execFile);

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

export class TemporalCliNotFoundError extends Error {
  override name = 'TemporalCliNotFoundError';
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function goBinDir(): Promise<string | undefined> {
  try {
    const { stdout } = await run('go', ['env', 'GOBIN', 'GOPATH']);
    const [gobin, gopath] = stdout.split('\n').map((line) => line.trim());
    if (gobin) return gobin;
    return join(gopath?.split(delimiter)[0] || join(homedir(), 'go'), 'bin');
  } catch {
    return undefined;
  }
}

/** The path of an existing `temporal` binary, or undefined. */
export async function findTemporalCli(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (env.TEMPORAL_CLI) {
    if (executable(env.TEMPORAL_CLI)) return env.TEMPORAL_CLI;
    throw new TemporalCliNotFoundError(`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file`);
  }
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    if (executable(join(dir, 'temporal'))) return join(dir, 'temporal');
  }
  const goBin = await goBinDir();
  for (const dir of [goBin, join(homedir(), 'go', 'bin')]) {
    if (dir && executable(join(dir, 'temporal'))) return join(dir, 'temporal');
  }
  return undefined;
}

/**
 * `go install -v <target>`, each package it builds shown as the wait's note with a count (go prints
 * one import path per line on stderr, and `go: downloading <module>` while fetching). Rejects with
 * the tail of go's output when it fails.
 */
export async function goInstall(target: string, wait: Wait, options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<void> {
  const child = spawn('go', ['install', '-v', target], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tail: string[] = [];
  let built = 0;
  createInterface({ input: child.stderr }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 20) tail.shift();
    const downloading = /^go: downloading (\S+)/.exec(line);
    if (downloading) wait.note(`downloading ${downloading[1]}`);
    else if (/^[\w.~/-]+$/.test(line)) wait.note(`${++built} packages built, now ${line}`);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new TemporalCliNotFoundError(`go install ${target} exited with code ${code}:\n${tail.join('\n')}`);
}

/** Finds the CLI, building it with `go install` when it is missing and Go is available. */
export async function ensureTemporalCli(waits: WaitIndicator = endLinesTo(() => {})): Promise<string> {
  const found = await findTemporalCli();
  if (found) return found;
  const goBin = await goBinDir();
  if (!goBin) {
    throw new TemporalCliNotFoundError(
      'the Temporal CLI was not found (set TEMPORAL_CLI, put `temporal` on PATH, or install Go so it can be built)',
    );
  }
  const wait = waits.begin(`building the Temporal CLI once: go install ${TEMPORAL_CLI_MODULE} (a few minutes)`);
  try {
    await goInstall(TEMPORAL_CLI_MODULE, wait);
  } catch (error) {
    wait.fail('building the Temporal CLI failed');
    throw error;
  }
  const built = join(goBin, 'temporal');
  if (!executable(built)) {
    wait.fail('building the Temporal CLI failed');
    throw new TemporalCliNotFoundError(`go install finished but ${built} is missing`);
  }
  wait.succeed(`built the Temporal CLI: ${built}`);
  return built;
}
