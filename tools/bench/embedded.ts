// The default target: the embedded stack in the bench process (API, worker, listener and PGlite, or
// a scratch PostgreSQL database when DATABASE_URL is set), its services as child processes.
import { sql } from 'drizzle-orm';
import type { PublicClient } from 'viem';
import { freePortStackConfig, startStack } from '../../app/wiring/stack.js';
import type { BenchTarget } from './cluster.js';
import { childProcesses } from './process-memory.js';
import { benchEnvironment } from './support.js';

export async function startEmbedded(extraEnv: NodeJS.ProcessEnv): Promise<BenchTarget> {
  const bench = await benchEnvironment();
  const { config, temporal } = freePortStackConfig({ ...bench.env, ...extraEnv });
  const stack = await startStack({ config, temporal, startTemporal: true }).catch(async (error: unknown) => {
    await bench.cleanup();
    throw error;
  });
  const { database } = stack.core;
  const temporalConfig = { ...temporal, connection: { ...temporal.connection, address: stack.temporalAddress } };
  return {
    description: `embedded stack in the bench process (API + worker + listener + ${database.kind === 'pglite' ? 'PGlite' : 'PostgreSQL client'}, and the bare worker)`,
    apiUrl: stack.apiUrl,
    client: stack.client,
    temporal: temporalConfig,
    query: async (text) => ((await database.db.execute(sql.raw(text))) as unknown as { rows: Record<string, unknown>[] }).rows,
    chain: stack.core.chain.client as unknown as PublicClient,
    registry: stack.core.registry.address,
    processes: () => [
      { role: 'bench process', pid: process.pid },
      // tsx's esbuild service is a child too, but no part of the stack.
      ...childProcesses()
        .filter((child) => child.name !== 'esbuild')
        .map((child) => ({ role: child.name, pid: child.pid })),
    ],
    nonceConflictLines: () => [],
    stop: async () => {
      await stack.stop();
      await bench.cleanup();
    },
  };
}
