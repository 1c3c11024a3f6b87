// Starts the real services once per test run: the Temporal dev server, anvil and Azurite, a fresh
// PostgreSQL database when DATABASE_URL is set (PGlite per test file otherwise), and the workflow
// bundle. Test files reach them through vitest's inject().
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { freePort } from '../../app/devstack/process.js';
import { createScratchDatabase } from '../../app/devstack/scratch-database.js';
import type { RunningService } from '../../app/devstack/process.js';
import { azuriteConnectionString, startAnvil, startAzurite, startTemporalDevServer } from '../../app/devstack/services.js';
import { ensureTemporalCli } from '../../app/devstack/temporal-cli.js';
import { spinnerOn } from '../../app/devstack/wait-indicator.js';

const require = createRequire(import.meta.url);

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    rpcUrl: string;
    blobConnectionString: string;
    /** A database created for this run, or '' to use PGlite. */
    databaseUrl: string;
    workflowBundlePath: string;
    /** One key store directory for the run, so every test file can sign as the participants in SQL. */
    keystoreDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const services: RunningService[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'tracewell-test-'));
  let dropDatabase: (() => Promise<void>) | undefined;
  const teardown = async () => {
    for (const service of services.reverse()) await service.stop();
    await dropDatabase?.();
    rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const cli = await ensureTemporalCli(spinnerOn(process.stdout));
    const [temporalPort, uiPort, anvilPort, azuritePort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const bundle = bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows/index.ts'), logger: quietLogger });
    const started = await Promise.all([
      startTemporalDevServer({
        cli,
        ip: '127.0.0.1',
        port: temporalPort,
        uiPort,
        headless: true, // nobody browses the suite's server; test/e2e/dev-command.test.ts checks the UI `dev` serves
        namespace: 'default',
        logFile: join(workDir, 'temporal.log'),
      }),
      startAnvil({ port: anvilPort }),
      startAzurite({ port: azuritePort }),
    ]);
    services.push(...started);

    const workflowBundlePath = join(workDir, 'workflow-bundle.js');
    writeFileSync(workflowBundlePath, (await bundle).code);

    let databaseUrl = '';
    if (process.env.DATABASE_URL) {
      const database = await createScratchDatabase(process.env.DATABASE_URL, 'tracewell_test');
      databaseUrl = database.url;
      dropDatabase = database.drop;
    }

    project.provide('temporalAddress', `127.0.0.1:${temporalPort}`);
    project.provide('rpcUrl', `http://127.0.0.1:${anvilPort}`);
    project.provide('blobConnectionString', azuriteConnectionString(azuritePort));
    project.provide('databaseUrl', databaseUrl);
    project.provide('workflowBundlePath', workflowBundlePath);
    project.provide('keystoreDir', join(workDir, 'keystore'));
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}

const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
