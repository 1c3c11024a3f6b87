// `tracewell deploy` (also run inside `tracewell dev` and the test stacks): everything a Tracewell
// installation needs once, done under one PostgreSQL advisory lock so any number of deploys started
// together do each thing once and the later ones find it done. Each step says what it did, or that
// it was already current. Worker, API, listener and intake processes only check the result.
import { isDeepStrictEqual } from 'node:util';
import type { ContainerClient } from '@azure/storage-blob';
import type { Client } from '@temporalio/client';
import type { Abi, Address, LocalAccount } from 'viem';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import type { Database } from '../../db/client.js';
import { findDeployment, recordDeployment } from '../../db/deployments.js';
import type { DeploymentRecord } from '../../db/deployments.js';
import { migrationStatus } from '../../db/migration-status.js';
import { gatewayContracts } from '../../db/schema.js';
import { eq } from 'drizzle-orm';
import type { ChainConnection } from '../../domain/chain/connection.js';
import { CERTIFIER_ROLE, PartRegistry, REGISTRAR_ROLE } from '../../domain/chain/part-registry.js';
import { DEFAULT_LEDGER_SETTINGS, TransactionManager } from '../../domain/chain/transaction-manager.js';
import { recoverLostTransactions } from '../../domain/chain/lost-transactions.js';
import { registerContract } from '../../domain/gateway/gateway.js';
import { lifecycleFilesIn, readLifecycleFile } from '../../domain/lifecycles/load.js';
import { publishDirectory } from '../../domain/lifecycles/publish.js';
import { REGISTRAR_KEY_REF } from '../../domain/participants/keystore.js';
import type { KeyStore } from '../../domain/participants/keystore.js';
import { syncParticipantOnChain } from '../../domain/participants/onboarding.js';
import type { AppConfig } from '../config/app-config.js';
import { ConfigError } from '../config/config-error.js';
import { ensurePartSearchAttributes } from './search-attribute-setup.js';
import { deploymentInputs } from './inputs.js';
import { ensurePartRegistry } from './part-registry-deployment.js';
import { ensureAdmin, loadParticipantsFile, seedParticipants } from './seed-participants.js';

/** The advisory lock every deploy (and `tracewell migrate`) holds: "tracewel" in ASCII. */
export const DEPLOY_LOCK_KEY = 0x747261636577656cn;

export interface DeployOptions {
  database: Database;
  chain: ChainConnection;
  keys: KeyStore;
  config: AppConfig;
  /** The document vault's blob container. */
  container: ContainerClient;
  /** Give seeded participants gas money (dev chains, CHAIN_FUND_PARTICIPANTS). */
  fund: boolean;
  /** The bootstrap API key of the `admin` participant (TRACEWELL_ADMIN_API_KEY, or dev's own). */
  adminApiKey?: string;
  /** `adminApiKey` was made just now by dev (no data directory to keep it): new, so it is always issued. */
  freshAdminKey?: boolean;
  /** Where to register the part workflows' search attributes (`tracewell dev` and the test stacks do it themselves). */
  temporal?: { client: Client; namespace: string };
  log: (line: string) => void;
}

/** Takes the deploy lock, saying so when another deploy holds it. */
function underDeployLock<T>(database: Database, log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
  return database.withAdvisoryLock(DEPLOY_LOCK_KEY, fn, () => log('waiting for another `tracewell deploy` to finish'));
}

async function migrate(database: Database, log: (line: string) => void): Promise<string> {
  const before = await migrationStatus(database.db);
  if (before.newer > 0) {
    throw new ConfigError(
      `database schema: ${before.newer} applied migration(s) are newer than this build of tracewell knows; deploy with the release that applied them`,
    );
  }
  const last = before.known.at(-1)!.tag;
  if (before.pending.length === 0) {
    log(`migrations: current (${before.known.length}, last ${last})`);
  } else {
    await database.migrate();
    log(`migrations: applied ${before.pending.map((migration) => migration.tag).join(', ')}`);
  }
  return last;
}

/** `tracewell migrate`: the migrations alone, under the same lock as a deploy. */
export function applyMigrations(database: Database, log: (line: string) => void): Promise<string> {
  return underDeployLock(database, log, () => migrate(database, log));
}

async function registerWithGateway(options: DeployOptions, address: Address): Promise<void> {
  const { database, chain, log } = options;
  // jsonb keeps no key order; deep equality ignores it.
  const [existing] = await database.db.select().from(gatewayContracts).where(eq(gatewayContracts.name, 'PartRegistry'));
  const current =
    existing && existing.chainId === chain.chainId && existing.address === address && isDeepStrictEqual(existing.abi, partRegistryAbi);
  if (current) {
    log('gateway: PartRegistry already registered');
    return;
  }
  await registerContract(database.db, chain.chainId, { name: 'PartRegistry', address, abi: partRegistryAbi as Abi }, 'tracewell');
  log(`gateway: PartRegistry ${existing ? 're-registered' : 'registered'} at ${address}`);
}

async function seedAndSyncRoles(options: DeployOptions, registry: PartRegistry, admin: LocalAccount): Promise<void> {
  const { database, chain, keys, config, fund, log } = options;
  const seeded = await seedParticipants(database.db, keys, loadParticipantsFile(config.TRACEWELL_PARTICIPANTS));
  const changed = seeded.filter((entry) => entry.outcome !== 'unchanged');
  log(
    changed.length === 0
      ? `participants: current (${seeded.length})`
      : `participants: ${changed.map((entry) => `${entry.outcome} ${entry.participant.id}`).join(', ')}`,
  );

  // Seeded participants get their on-chain roles here; those created over the API, by a workflow.
  // Sequential writes of one signer: batching has nothing to gather, so none is waited for.
  const txSender = new TransactionManager({
    db: database.db,
    locks: database,
    chain,
    registry: registry.address,
    settings: { ...DEFAULT_LEDGER_SETTINGS, batchWaitMs: 0 },
    waitTimeoutMs: config.CHAIN_RECEIPT_TIMEOUT,
    log,
  });
  const onboarding = { registry, txSender, admin, fund };
  const roleChanges: string[] = [];
  try {
    for (const { participant } of seeded) {
      const address = participant.address as Address;
      const before = {
        registrar: await registry.hasRole(REGISTRAR_ROLE, address),
        certifier: await registry.hasRole(CERTIFIER_ROLE, address),
      };
      // Named by chain and contract: one database may serve several chains (a test net beside a dev chain).
      const after = await syncParticipantOnChain(onboarding, participant, `seed:${chain.chainId}:${registry.address}`);
      for (const role of ['registrar', 'certifier'] as const) {
        if (before[role] !== after[role])
          roleChanges.push(`${after[role] ? 'granted' : 'revoked'} ${role} ${after[role] ? 'to' : 'from'} ${participant.id}`);
      }
    }
  } finally {
    await txSender.close();
  }
  log(roleChanges.length === 0 ? 'on-chain roles: current' : `on-chain roles: ${roleChanges.join(', ')}`);
}

/** Why TRACEWELL_ADMIN_API_KEY does not work, when it does not. */
const BOOTSTRAP_KEY_WARNINGS = {
  revoked: 'TRACEWELL_ADMIN_API_KEY names a revoked key; it stays revoked (use another admin key, and drop the variable)',
  foreign: "TRACEWELL_ADMIN_API_KEY is another participant's key; not made an admin key",
  'not-issued':
    'TRACEWELL_ADMIN_API_KEY is not a known key and an admin already holds a working one; not issued (issue admin keys through the API)',
} as const;

async function ensureAdminKey(options: DeployOptions): Promise<void> {
  const { database, keys, adminApiKey, freshAdminKey, log } = options;
  if (!adminApiKey) {
    log('admin: no TRACEWELL_ADMIN_API_KEY given, none issued');
    return;
  }
  const admin = await ensureAdmin(database.db, keys, REGISTRAR_KEY_REF, adminApiKey, { fresh: freshAdminKey });
  const done = [admin.created && 'participant created', admin.key === 'issued' && 'bootstrap API key issued'].filter(Boolean);
  log(`admin: ${done.length ? done.join(', ') : 'current'}`);
  if (admin.key in BOOTSTRAP_KEY_WARNINGS) log(`admin: ${BOOTSTRAP_KEY_WARNINGS[admin.key as keyof typeof BOOTSTRAP_KEY_WARNINGS]}`);
}

/**
 * Publishes the lifecycle files, saying what each did: a new version (now the default), or the
 * version its content already is, beside the default when a process engineer has set another.
 */
async function publishLifecycles(options: DeployOptions): Promise<void> {
  const { database, config, log } = options;
  const current: string[] = [];
  for (const { file, published } of await publishDirectory(database.db, config.TRACEWELL_LIFECYCLES)) {
    if (published.outcome === 'created') {
      const now = published.defaultVersion === published.row.version ? ' (now the default)' : '';
      log(`lifecycle ${published.row.name} v${published.row.version} published from ${file}${now}`);
    } else if (published.outcome === 'unchanged') {
      const other = published.defaultVersion === published.row.version ? '' : ` (default: v${published.defaultVersion})`;
      current.push(`${published.row.name} v${published.row.version}${other}`);
    }
  }
  if (current.length > 0) log(`lifecycles: current (${current.join(', ')})`);
}

async function ensureContainer({ container, log }: DeployOptions): Promise<void> {
  const created = await container.createIfNotExists();
  log(`documents: blob container ${container.containerName} ${created.succeeded ? 'created' : 'exists'}`);
}

async function record(options: DeployOptions, record: DeploymentRecord): Promise<void> {
  const { database, log } = options;
  const existing = await findDeployment(database.db, record.chainId);
  const same = existing && (Object.keys(record) as (keyof DeploymentRecord)[]).every((key) => existing[key] === record[key]);
  if (same) {
    log(`deployment: current (chain ${record.chainId}, tracewell ${record.version})`);
    return;
  }
  await recordDeployment(database.db, record);
  log(`deployment: recorded (chain ${record.chainId}, PartRegistry ${record.partRegistry}, tracewell ${record.version})`);
}

/**
 * Migrations, the PartRegistry (found or deployed), its gateway registration, the document
 * container, Temporal's search attributes, participants and their on-chain roles, the admin's API
 * key and the lifecycles; then the record processes check. Returns that record.
 */
export async function deploy(options: DeployOptions): Promise<DeploymentRecord> {
  const { database, chain, keys, config, log } = options;
  // Read before the lock: a bad seed file stops this deploy before it changes anything.
  const inputs = deploymentInputs(config);
  loadParticipantsFile(config.TRACEWELL_PARTICIPANTS);
  lifecycleFilesIn(config.TRACEWELL_LIFECYCLES).forEach((file) => readLifecycleFile(file));
  return underDeployLock(database, log, async () => {
    const schemaTag = await migrate(database, log);
    // Before anything here sends: transactions a restarted node lost come back first, in their order.
    await recoverLostTransactions(database.db, chain, { log });
    const admin = await keys.account(REGISTRAR_KEY_REF);
    const found = await ensurePartRegistry(database.db, chain, admin, config.PART_REGISTRY_ADDRESS);
    log(`PartRegistry ${found.deployed ? 'deployed at' : 'found at'} ${found.address} (chain ${chain.chainId})`);
    const registry = new PartRegistry(chain.client, found.address);
    await registerWithGateway(options, found.address);
    await ensureContainer(options);
    if (options.temporal) await ensurePartSearchAttributes(options.temporal.client, options.temporal.namespace, log);
    await seedAndSyncRoles(options, registry, admin);
    await ensureAdminKey(options);
    await publishLifecycles(options);
    const deployment: DeploymentRecord = {
      chainId: chain.chainId,
      partRegistry: found.address,
      // An external contract (PART_REGISTRY_ADDRESS) is not this build's to vouch for.
      registryBytecodeHash: config.PART_REGISTRY_ADDRESS ? null : inputs.registryBytecodeHash,
      schemaTag,
      participantsHash: inputs.participantsHash,
      lifecyclesHash: inputs.lifecyclesHash,
      version: inputs.version,
    };
    await record(options, deployment);
    return deployment;
  });
}
