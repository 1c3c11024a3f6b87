// DIR/stack.json: how to reach a running `tracewell dev --data-dir DIR`. The dev stack writes it once
// everything is up and removes it when it stops, so the CLI in a second shell (`tracewell verify
// --data-dir DIR`) finds the API, the chain and the admin key instead of opening the data directory's
// PGlite, which only one process at a time may open. A file left by a killed stack names a process
// that no longer runs: readers treat it as stopped.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../config/config-error.js';

export const STACK_FILE = 'stack.json';
/** The file `tracewell dev` keeps its admin API key in (app/deploy/seed-participants.ts devAdminApiKey). */
export const ADMIN_KEY_FILE = 'admin-api-key';

const stackFileSchema = z.object({
  format: z.literal(1),
  /** The `tracewell dev` process: the stack runs while it does. */
  pid: z.number().int().positive(),
  startedAt: z.string(),
  apiUrl: z.string().url(),
  temporalAddress: z.string(),
  temporalUiUrl: z.string().nullable(),
  chainRpcUrl: z.string().url(),
  /** `pglite` (DIR/pglite, one process only) or `postgres` (DATABASE_URL). */
  database: z.enum(['pglite', 'postgres']),
  /** The admin API key's file in DIR, or null when the key came from TRACEWELL_ADMIN_API_KEY. */
  adminApiKeyFile: z.string().nullable(),
});

export type StackFile = z.infer<typeof stackFileSchema>;

/** What a data directory says about its dev stack. */
export type DataDirState =
  | { dir: string; status: 'running'; stack: StackFile; adminApiKey?: string }
  /** No stack file, or one whose process is gone (a killed stack). */
  | { dir: string; status: 'stopped'; hasPglite: boolean; adminApiKey?: string };

export function stackFilePath(dir: string): string {
  return join(dir, STACK_FILE);
}

/** Written through a temporary file and a rename, so a reader never sees half of it. */
export function writeStackFile(dir: string, stack: Omit<StackFile, 'format'>): void {
  const path = stackFilePath(dir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify({ format: 1, ...stack }, null, 2)}\n`);
  renameSync(`${path}.tmp`, path);
}

/** Removes the file if it is still this process's (a second stack may have written its own since). */
export function removeStackFile(dir: string, pid = process.pid): void {
  const path = stackFilePath(dir);
  try {
    const current = JSON.parse(readFileSync(path, 'utf8')) as { pid?: unknown };
    if (current.pid === pid) rmSync(path, { force: true });
  } catch {
    // gone already, or not ours to judge: leave it
  }
}

/** True while a process with this id runs (EPERM: it runs, under another user). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function parseStackFile(text: string, path: string): StackFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path}: not JSON (${(error as Error).message}); delete it if no \`tracewell dev\` runs there`);
  }
  const result = stackFileSchema.safeParse(json);
  if (!result.success) throw ConfigError.fromZod(path, result.error);
  return result.data;
}

/** Reads DIR/stack.json and DIR/admin-api-key; `isRunning` is injectable for tests. */
export function readDataDir(dir: string, isRunning: (pid: number) => boolean = processRuns): DataDirState {
  if (!existsSync(dir)) throw new ConfigError(`--data-dir ${dir}: no such directory (the one \`tracewell dev --data-dir\` was given)`);
  const path = stackFilePath(dir);
  if (existsSync(path)) {
    const stack = parseStackFile(readFileSync(path, 'utf8'), path);
    // A stack started with TRACEWELL_ADMIN_API_KEY wrote no key file: an older one would not be its key.
    if (isRunning(stack.pid))
      return { dir, status: 'running', stack, adminApiKey: stack.adminApiKeyFile ? readKey(dir, stack.adminApiKeyFile) : undefined };
  }
  return { dir, status: 'stopped', hasPglite: existsSync(join(dir, 'pglite')), adminApiKey: readKey(dir, ADMIN_KEY_FILE) };
}

function readKey(dir: string, file: string): string | undefined {
  const path = join(dir, file);
  return existsSync(path) ? readFileSync(path, 'utf8').trim() || undefined : undefined;
}
