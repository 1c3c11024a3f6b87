// Builds configuration for tests from the services the global setup started.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { loadAppConfig } from '../../app/config/app-config.js';
import type { AppConfig } from '../../app/config/app-config.js';
import { loadTemporalConfig } from '../../app/config/temporal.js';
import type { TemporalConfig } from '../../app/config/temporal.js';
import { DEV_MNEMONIC } from '../../app/devstack/services.js';
import { findParticipant } from '../../db/participants.js';
import { openCore } from '../../app/wiring/core.js';
import type { Core } from '../../app/wiring/core.js';
import { startStack } from '../../app/wiring/stack.js';
import type { Stack } from '../../app/wiring/stack.js';

/** The API key of the `admin` participant in every test stack. */
export const TEST_ADMIN_API_KEY = 'tw_test-admin-key-0123456789abcdef';

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
    TRACEWELL_KEYSTORE_DIR: inject('keystoreDir'),
    TRACEWELL_KEYSTORE_PASSPHRASE: 'test-keystore-passphrase',
    // Key files guard nothing here; cheap ones keep participant creation fast.
    TRACEWELL_KEYSTORE_SCRYPT_N: '1024',
    TRACEWELL_ADMIN_API_KEY: TEST_ADMIN_API_KEY,
    CHAIN_FUND_PARTICIPANTS: 'true',
    // The suites' webhook receivers listen on 127.0.0.1, which webhooks may not reach by default.
    WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1',
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
      chain: {
        ...config.activities.chain,
        retry: { ...config.activities.chain.retry, initialInterval: 50, maximumInterval: 200, maximumAttempts: 5 },
      },
    },
  };
}

export function openTestCore(): Promise<Core> {
  return openCore({ config: testAppConfig(), rpcUrl: inject('rpcUrl'), dev: false, deploy: true });
}

/** A participant's ledger address, as the SQL mirror knows it. */
export async function participantAddress(core: Core, participantId: string): Promise<`0x${string}`> {
  const participant = await findParticipant(core.database.db, participantId);
  if (!participant) throw new Error(`no participant ${participantId}`);
  return participant.address as `0x${string}`;
}

/** The whole stack on the run's services, as `tracewell dev` starts it (but Temporal, shared by the run). */
export function startTestStack(overrides: NodeJS.ProcessEnv = {}): Promise<Stack> {
  return startStack({
    config: testAppConfig(overrides),
    temporal: testTemporalConfig(),
    startTemporal: false,
    workflowBundlePath: inject('workflowBundlePath'),
  });
}
