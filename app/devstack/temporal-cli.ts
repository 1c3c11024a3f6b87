// Finds the `temporal` CLI (which embeds the real Temporal dev server): TEMPORAL_CLI, then PATH,
// then Go's bin folder; failing those, builds it with `go install` when Go is present.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { homedir } from 'node:os';
import { promisify } from 'node:util';

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

/** Finds the CLI, building it with `go install` when it is missing and Go is available. */
export async function ensureTemporalCli(log: (line: string) => void = () => {}): Promise<string> {
  const found = await findTemporalCli();
  if (found) return found;
  const goBin = await goBinDir();
  if (!goBin) {
    throw new TemporalCliNotFoundError(
      'the Temporal CLI was not found (set TEMPORAL_CLI, put `temporal` on PATH, or install Go so it can be built)',
    );
  }
  log(`building the Temporal CLI: go install ${TEMPORAL_CLI_MODULE} (a few minutes, once)`);
  await run('go', ['install', TEMPORAL_CLI_MODULE], { maxBuffer: 16 * 1024 * 1024, timeout: 30 * 60_000 });
  const built = join(goBin, 'temporal');
  if (!executable(built)) throw new TemporalCliNotFoundError(`go install finished but ${built} is missing`);
  return built;
}
