// Builds configuration for tests from the services the global setup started.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { loadAppConfig } from '../../config/app.js';
import type { AppConfig } from '../../config/app.js';
import { loadTemporalConfig } from '../../config/temporal.js';
import type { TemporalConfig } from '../../config/temporal.js';
import { DEV_MNEMONIC } from '../../devstack/services.js';
import { openCore } from '../../runtime/core.js';
import type { Core } from '../../runtime/core.js';

/** An id no other test uses, e.g. `urn:test:chip:3f2a…`. */
export function uniqueId(prefix = 'urn:test:part'): string {
  return `${prefix}:${randomUUID().slice(0, 12)}`;
}

export function testAppConfig(overrides: NodeJS.ProcessEnv = {}): AppConfig {
  return loadAppConfig({
    DATABASE_URL: inject('databaseUrl') || undefined,
    CHAIN_RPC_URL: inject('rpcUrl'),
    CHAIN_MNEMONIC: DEV_MNEMONIC,
    AZURE_STORAGE_CONNECTION_STRING: inject('blobConnectionString'),
    API_PORT: '0',
    ...overrides,
  });
}

/** temporal.yaml pointed at the test server, on a task queue of the file's own. */
export function testTemporalConfig(): TemporalConfig {
  const config = loadTemporalConfig('temporal.yaml', {});
  return {
    ...config,
    connection: { ...config.connection, address: inject('temporalAddress') },
    taskQueue: `test-${randomUUID().slice(0, 8)}`,
    // Fast retries keep failure tests short; the policy shape is the production one.
    activities: {
      default: { ...config.activities.default, retry: { ...config.activities.default.retry, initialInterval: 50, maximumInterval: 200 } },
      chain: { ...config.activities.chain, retry: { ...config.activities.chain.retry, initialInterval: 50, maximumInterval: 200, maximumAttempts: 5 } },
    },
  };
}

export function openTestCore(): Promise<Core> {
  return openCore({ config: testAppConfig(), rpcUrl: inject('rpcUrl'), dev: false, deploy: true });
}
