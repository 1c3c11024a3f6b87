// `tracewell dev` as a user runs it, in a child process: started on free ports over a data
// directory, read from the banner it prints, stopped with Ctrl-C.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface DevRun {
  child: ChildProcess;
  output: () => string;
  apiUrl: string;
  /** The admin API key the banner prints. */
  apiKey: string;
}

/** Starts `tracewell dev --data-dir dataDir` on free ports and waits for its banner. */
export async function startDev(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<DevRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/tracewell.ts', 'dev', '--data-dir', dataDir], {
    env: {
      ...process.env,
      DATABASE_URL: '', // the embedded PGlite, as a user gets it
      API_PORT: '0',
      CHAIN_PORT: '0',
      AZURITE_PORT: '0',
      TEMPORAL_DEV_PORT: '0',
      TEMPORAL_DEV_UI_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const deadline = Date.now() + 120_000;
  while (!/API\s+(http:\/\/\S+)/.test(output)) {
    if (child.exitCode !== null) throw new Error(`tracewell dev exited early:\n${output}`);
    if (Date.now() > deadline) throw new Error(`tracewell dev did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    output: () => output,
    apiUrl: /API\s+(http:\/\/\S+)/.exec(output)![1]!,
    apiKey: /Admin key\s+(tw_\S+)/.exec(output)![1]!,
  };
}

/** Ctrl-C, and the exit code. */
export async function interrupt(run: DevRun): Promise<number | null> {
  if (run.child.exitCode !== null) return run.child.exitCode;
  const exited = new Promise<number | null>((resolve) => run.child.once('exit', (code) => resolve(code)));
  run.child.kill('SIGINT');
  return exited;
}

/** Processes whose command line names the data directory (temporal, anvil, azurite). */
export function processesUsing(dir: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', dir], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** The CLI as a user runs it in a second shell: its own process, nothing set but what `env` says. */
export function tracewellCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'app/cli/tracewell.ts', ...args], {
    // Empty means unset: the test run's own settings must not point the CLI anywhere.
    env: {
      ...process.env,
      DATABASE_URL: '',
      CHAIN_RPC_URL: '',
      TRACEWELL_DATA_DIR: '',
      TRACEWELL_API_URL: '',
      TRACEWELL_API_KEY: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}
