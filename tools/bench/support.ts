// What the benchmark scripts share: percentiles, running `main` as a process, and a clean environment.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase } from '../../app/devstack/scratch-database.js';

/** The p-th percentile of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs a benchmark and exits: 0 when it printed its figures (or the exit code it set), 1 with the error otherwise. */
export function runBenchmark(main: () => Promise<void>): void {
  main().then(
    () => process.exit(),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

/** The admin API key the benchmarks start their stack with and call the API with. */
export const BENCH_ADMIN_API_KEY = `tw_bench-${Date.now().toString(36)}-admin-key`;

/**
 * Settings for one benchmark run: a scratch database when DATABASE_URL names a server (so earlier
 * runs' data neither slows nor breaks it), a throwaway key store, and the admin key.
 */
export async function benchEnvironment(): Promise<{ env: NodeJS.ProcessEnv; cleanup: () => Promise<void> }> {
  const keystoreDir = mkdtempSync(join(tmpdir(), 'tracewell-bench-keys-'));
  const database = process.env.DATABASE_URL ? await createScratchDatabase(process.env.DATABASE_URL, 'tracewell_bench') : undefined;
  return {
    env: {
      ...(database ? { DATABASE_URL: database.url } : {}),
      TRACEWELL_ADMIN_API_KEY: BENCH_ADMIN_API_KEY,
      TRACEWELL_KEYSTORE_DIR: keystoreDir,
      TRACEWELL_KEYSTORE_PASSPHRASE: 'bench',
      TRACEWELL_KEYSTORE_SCRYPT_N: '1024',
      CHAIN_FUND_PARTICIPANTS: 'true',
    },
    cleanup: async () => {
      await database?.drop();
      rmSync(keystoreDir, { recursive: true, force: true });
    },
  };
}

/** One measured phase: how many parts, how long, and each part's latency (ascending, ms). */
export interface PhaseResult {
  parts: number;
  elapsedS: number;
  latencies: number[];
}

/** Runs `one(0..parts-1)` with at most `concurrency` in flight; answers the phase's timings. */
export async function runParts(parts: number, concurrency: number, one: (index: number) => Promise<void>): Promise<PhaseResult> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, parts) }, async () => {
      while (next < parts) {
        const index = next++;
        const started = performance.now();
        await one(index);
        latencies.push(performance.now() - started);
      }
    }),
  );
  return { parts, elapsedS: (performance.now() - t0) / 1000, latencies: latencies.sort((a, b) => a - b) };
}
