// Child processes of the embedded stack: spawned in their own process group, awaited until ready,
// and stopped (group-wide, SIGTERM then SIGKILL) so nothing is left running.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export class ServiceStartError extends Error {
  override name = 'ServiceStartError';
}

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  /** Resolves true once the service answers. Polled until `readyTimeoutMs`. */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
  /** Where stdout/stderr go; when absent they are discarded. */
  logFile?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunningService {
  name: string;
  pid: number;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

/** Kills every child still running; used on exit paths that cannot await. */
export function killAllChildrenSync(): void {
  for (const child of running) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function startService(spec: ServiceSpec): Promise<RunningService> {
  const child = spawn(spec.command, spec.args, {
    detached: true, // own process group, so stop() reaches grandchildren too
    stdio: ['ignore', spec.logFile ? 'pipe' : 'ignore', spec.logFile ? 'pipe' : 'ignore'],
    env: spec.env ?? process.env,
  });
  running.add(child);
  let tail = '';
  if (spec.logFile) {
    mkdirSync(dirname(spec.logFile), { recursive: true });
    const log = createWriteStream(spec.logFile, { flags: 'a' });
    const keepTail = (chunk: Buffer) => {
      tail = (tail + chunk.toString()).slice(-2000);
      log.write(chunk);
    };
    child.stdout?.on('data', keepTail);
    child.stderr?.on('data', keepTail);
    child.once('exit', () => log.end());
  }
  let exited: string | undefined;
  child.once('exit', (code, signal) => {
    exited = `exited with ${signal ?? `code ${code}`}`;
    running.delete(child);
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (e) => reject(new ServiceStartError(`${spec.name}: cannot start ${spec.command}: ${e.message}`))),
  );
  spawnError.catch(() => undefined);

  const stop = async () => {
    if (exited || child.pid === undefined) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    signalGroup(child, 'SIGTERM');
    const timedOut = await Promise.race([gone.then(() => false), sleep(5_000).then(() => true)]);
    if (timedOut) {
      signalGroup(child, 'SIGKILL');
      await gone;
    }
  };

  const deadline = Date.now() + (spec.readyTimeoutMs ?? 30_000);
  try {
    for (;;) {
      if (exited) throw new ServiceStartError(`${spec.name} ${exited} before it was ready${tail ? `:\n${tail}` : ''}`);
      const ok = await Promise.race([spec.ready().catch(() => false), spawnError]);
      if (ok) break;
      if (Date.now() > deadline)
        throw new ServiceStartError(`${spec.name} was not ready within ${spec.readyTimeoutMs ?? 30_000} ms${tail ? `:\n${tail}` : ''}`);
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { name: spec.name, pid: child.pid!, stop };
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    child.kill(signal);
  }
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** True when a TCP connection to host:port succeeds. */
export async function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
