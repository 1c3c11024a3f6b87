// Which Tracewell a CLI command talks to, from its flags, the environment and a data directory:
// the API of a running `tracewell dev --data-dir DIR` (found in DIR/stack.json, its admin key in
// DIR/admin-api-key), an API named outright, or a database and a chain. Pure: the data directory
// comes in already read (app/devstack/stack-file.ts), so every rule below is tested on its own.
//
// The rules, first match wins. Flags beat the environment; a running dev stack's data directory
// beats TRACEWELL_API_URL/TRACEWELL_API_KEY, since it names that very stack.
// - API commands (`ops …`): `--api`; the running stack of `--data-dir`/TRACEWELL_DATA_DIR;
//   TRACEWELL_API_URL; http://127.0.0.1:$API_PORT. A data directory without a running stack is an error.
// - Database commands (`verify`, `listener status`): `--api`; the running stack's API (its PGlite is
//   open in that process); DATABASE_URL with CHAIN_RPC_URL; a stopped stack's DIR/pglite with
//   CHAIN_RPC_URL; TRACEWELL_API_URL. Nothing given is an error that says what to pass.
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError } from '../config/config-error.js';
import { CodedError } from '../../domain/errors/coded-error.js';
import { Errors } from '../../domain/errors/catalogue.js';
import type { DataDirState } from '../devstack/stack-file.js';
import { STACK_FILE } from '../devstack/stack-file.js';

export interface TargetFlags {
  dataDir?: string;
  api?: string;
  apiKey?: string;
}

export interface TargetEnv {
  TRACEWELL_DATA_DIR?: string;
  TRACEWELL_API_URL?: string;
  TRACEWELL_API_KEY?: string;
  DATABASE_URL?: string;
  CHAIN_RPC_URL?: string;
  API_PORT?: string;
}

export interface ApiTarget {
  kind: 'api';
  url: string;
  apiKey: string;
  /** Where the URL came from, for messages: `--api`, `DIR/stack.json`, `TRACEWELL_API_URL`, `API_PORT`, `the default`. */
  from: string;
}

export interface DatabaseTarget {
  kind: 'database';
  /** PostgreSQL, or else PGlite in `pgliteDir`. */
  databaseUrl?: string;
  pgliteDir?: string;
  rpcUrl: string;
  from: string;
}

/** Reads a data directory (the real one is app/devstack/stack-file.ts readDataDir). */
export type ReadDataDir = (dir: string) => DataDirState;

/** What to write when nothing says where Tracewell runs. */
export const PASS_DATA_DIR = 'pass --data-dir DIR of a running `tracewell dev --data-dir DIR` (or set TRACEWELL_DATA_DIR)';

const set = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);

function dataDirOf(flags: TargetFlags, env: TargetEnv, read: ReadDataDir): DataDirState | undefined {
  const dir = set(flags.dataDir) ?? set(env.TRACEWELL_DATA_DIR);
  return dir === undefined ? undefined : read(dir);
}

function notRunning(state: DataDirState, command: string, alternative: string): ConfigError {
  return new ConfigError(
    `${command}: no \`tracewell dev\` runs on ${state.dir} (no ${join(state.dir, STACK_FILE)} of a live process): ` +
      `start \`tracewell dev --data-dir ${state.dir}\` and run this again, or ${alternative}`,
  );
}

/** The key for an API found at `from`: `--api-key`; the stack's own admin key; TRACEWELL_API_KEY; the data directory's key. */
function apiTarget(
  url: string,
  from: string,
  flags: TargetFlags,
  env: TargetEnv,
  state: DataDirState | undefined,
  command: string,
): ApiTarget {
  const fromStack = state?.status === 'running' && from === join(state.dir, STACK_FILE);
  const apiKey = set(flags.apiKey) ?? (fromStack ? state.adminApiKey : undefined) ?? set(env.TRACEWELL_API_KEY) ?? state?.adminApiKey;
  if (apiKey) return { kind: 'api', url: url.replace(/\/+$/, ''), apiKey, from };
  if (fromStack)
    throw new ConfigError(
      `${command}: the dev stack on ${state.dir} keeps no admin key there (it was started with TRACEWELL_ADMIN_API_KEY): pass --api-key KEY or set TRACEWELL_API_KEY`,
    );
  const hint = `pass --api-key KEY or set TRACEWELL_API_KEY (an operator's key), or ${PASS_DATA_DIR} to use its admin key`;
  throw new CodedError(Errors.api_key_missing, { command, url, from, hint });
}

/** The API an `ops` command calls. */
export function resolveApiTarget(flags: TargetFlags, env: TargetEnv, read: ReadDataDir, command: string): ApiTarget {
  const state = dataDirOf(flags, env, read);
  const api = set(flags.api);
  if (api) return apiTarget(api, '--api', flags, env, state, command);
  if (state?.status === 'running') return apiTarget(state.stack.apiUrl, join(state.dir, STACK_FILE), flags, env, state, command);
  const envApi = set(env.TRACEWELL_API_URL);
  if (envApi) return apiTarget(envApi, 'TRACEWELL_API_URL', flags, env, state, command);
  if (state) throw notRunning(state, command, 'pass --api URL of a running API');
  const port = set(env.API_PORT);
  return apiTarget(`http://127.0.0.1:${port ?? 3000}`, port ? 'API_PORT' : 'the default', flags, env, state, command);
}

/** Where a command that reads the mirror and the chain (`verify`, `listener status`) gets them. */
export function resolveLedgerTarget(flags: TargetFlags, env: TargetEnv, read: ReadDataDir, command: string): ApiTarget | DatabaseTarget {
  const state = dataDirOf(flags, env, read);
  const api = set(flags.api);
  if (api) return apiTarget(api, '--api', flags, env, state, command);
  // A running stack holds its PGlite open: go through its API, which reads the same database.
  if (state?.status === 'running') return apiTarget(state.stack.apiUrl, join(state.dir, STACK_FILE), flags, env, state, command);
  const rpcUrl = set(env.CHAIN_RPC_URL);
  const databaseUrl = set(env.DATABASE_URL);
  if (databaseUrl) {
    if (!rpcUrl) throw new ConfigError(`${command}: CHAIN_RPC_URL: required with DATABASE_URL (the chain to compare the mirror with)`);
    return { kind: 'database', databaseUrl, rpcUrl, from: 'DATABASE_URL' };
  }
  if (state) {
    if (!state.hasPglite)
      throw new ConfigError(
        `${command}: ${state.dir} is no dev stack's data directory (no ${join(state.dir, 'pglite')}, no ${join(state.dir, STACK_FILE)}): pass the --data-dir \`tracewell dev\` was given`,
      );
    // anvil stopped with the stack: a stopped stack's database can only be checked against a chain named outright.
    if (!rpcUrl) throw notRunning(state, command, 'set CHAIN_RPC_URL to check its database against a chain');
    return { kind: 'database', pgliteDir: join(state.dir, 'pglite'), rpcUrl, from: state.dir };
  }
  const envApi = set(env.TRACEWELL_API_URL);
  if (envApi) return apiTarget(envApi, 'TRACEWELL_API_URL', flags, env, state, command);
  throw new ConfigError(
    `${command}: say which Tracewell to check: ${PASS_DATA_DIR}, or --api URL with --api-key KEY, or set DATABASE_URL and CHAIN_RPC_URL`,
  );
}

/** The options every command that finds its target this way takes. */
export function withTargetOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'the data directory of a running `tracewell dev` (TRACEWELL_DATA_DIR): its API and admin key')
    .option('--api <url>', 'the Tracewell API (TRACEWELL_API_URL)')
    .option('--api-key <key>', "an operator's API key (TRACEWELL_API_KEY)");
}
