// What the benchmark scripts share: percentiles and running `main` as a process.

/** The p-th percentile of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Runs a benchmark and exits: 0 when it printed its figures, 1 with the error otherwise. */
export function runBenchmark(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

/** The admin API key the benchmarks start their stack with and call the API with. */
export const BENCH_ADMIN_API_KEY = `tw_bench-${Date.now().toString(36)}-admin-key`;

/** Settings for a benchmark stack on a chain of its own (not `tracewell dev`): a throwaway key store. */
export function benchStackSettings(keystoreDir: string): NodeJS.ProcessEnv {
  return {
    TRACEWELL_ADMIN_API_KEY: BENCH_ADMIN_API_KEY,
    TRACEWELL_KEYSTORE_DIR: keystoreDir,
    TRACEWELL_KEYSTORE_PASSPHRASE: 'bench',
    TRACEWELL_KEYSTORE_SCRYPT_N: '1024',
    CHAIN_FUND_PARTICIPANTS: 'true',
  };
}
