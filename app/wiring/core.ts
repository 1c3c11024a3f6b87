// The ledger-and-SQL core shared by the worker and the API: the database (migrated), the chain
// connection, the key store, the PartRegistry (found or deployed), the seeded participants and the
// lifecycle definitions of the lifecycles/ folder.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Abi, Address } from 'viem';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import { registerContract } from '../../domain/gateway/gateway.js';
import type { AppConfig } from '../config/app.js';
import { ConfigError } from '../config/errors.js';
import { openDatabase } from '../../db/client.js';
import type { Database } from '../../db/client.js';
import { connectChain } from '../../domain/chain/connection.js';
import type { ChainConnection } from '../../domain/chain/connection.js';
import type { LedgerListener } from '../../domain/mirror/listener.js';
import { CompositeKeyStore, FileKeyStore, HdKeyStore, REGISTRAR_KEY_REF } from '../../domain/participants/keystore.js';
import type { KeyStore } from '../../domain/participants/keystore.js';
import { syncParticipantOnChain } from '../../domain/participants/onboarding.js';
import { PartRegistry } from '../../domain/chain/part-registry.js';
import { TxSender } from '../../domain/chain/tx-sender.js';
import type { ActivityDeps } from '../../activities/index.js';
import { publishDirectory } from '../../domain/lifecycles/publish.js';
import { DocumentVault } from '../../domain/documents/vault.js';
import { MirrorSignal } from '../../domain/streams/mirror-signal.js';
import { blobContainer } from './blob.js';
import { ensurePartRegistry } from '../deploy/part-registry-deployment.js';
import { openLedgerListener } from './ledger-listener.js';
import { devAdminApiKey, ensureAdmin, loadParticipantsFile, seedParticipants } from '../deploy/seed-participants.js';

export interface Core {
  database: Database;
  chain: ChainConnection;
  keys: KeyStore;
  registry: PartRegistry;
  txSender: TxSender;
  /** Mirrors the contract's events into SQL: caught up by activities, run as a loop by `listener` and `dev`. */
  listener: LedgerListener;
  /** Announces new mirrored events to this process's streams. */
  mirrorSignal: MirrorSignal;
  documents: DocumentVault;
  activityDeps: ActivityDeps;
  /** The admin API key when this process created or read it (dev); never one given by the environment. */
  devAdminApiKey?: string;
  close(): Promise<void>;
}

export interface CoreOptions {
  config: AppConfig;
  /** RPC URL of the chain (CHAIN_RPC_URL, or the embedded anvil's). */
  rpcUrl: string;
  /** Blob storage of the document vault (default AZURE_STORAGE_CONNECTION_STRING). */
  blobConnectionString?: string;
  /** Dev mode: the dev mnemonic is allowed and participants get gas money. */
  dev: boolean;
  /** May deploy the PartRegistry when none is known (dev, tests, `tracewell deploy`); default false. */
  deploy?: boolean;
  devMnemonic?: string;
  log?: (line: string) => void;
}

/** Dev keys are as public as the dev mnemonic: fine for a local chain, refused anywhere else. */
const DEV_KEYSTORE_PASSPHRASE = 'tracewell-dev-keystore';
/** Cheap key files for dev, where the keys guard nothing of value. */
const DEV_SCRYPT_N = 4096;

function openKeyStore(config: AppConfig, dev: boolean, mnemonic: string): KeyStore {
  const passphrase = config.TRACEWELL_KEYSTORE_PASSPHRASE ?? (dev ? DEV_KEYSTORE_PASSPHRASE : undefined);
  if (!passphrase) throw new ConfigError('TRACEWELL_KEYSTORE_PASSPHRASE: required outside `tracewell dev` (it unlocks the participants\' key files)');
  // A throwaway key store only goes with a throwaway database: participants kept in a database
  // outlive the process, and so must their keys.
  const ephemeral = dev && !config.DATABASE_URL;
  const dir =
    config.TRACEWELL_KEYSTORE_DIR ??
    (config.TRACEWELL_DATA_DIR ? join(config.TRACEWELL_DATA_DIR, 'keystore') : ephemeral ? mkdtempSync(join(tmpdir(), 'tracewell-keystore-')) : undefined);
  if (!dir) throw new ConfigError('TRACEWELL_KEYSTORE_DIR: say where the participants\' key files live (or set TRACEWELL_DATA_DIR); they must last as long as the database');
  const files = new FileKeyStore({ dir, passphrase, scryptN: config.TRACEWELL_KEYSTORE_PASSPHRASE || !dev ? config.TRACEWELL_KEYSTORE_SCRYPT_N : DEV_SCRYPT_N });
  return new CompositeKeyStore([new HdKeyStore(mnemonic), files], { createWith: files });
}

export async function openCore(options: CoreOptions): Promise<Core> {
  const { config, log = () => {} } = options;
  const mnemonic = config.CHAIN_MNEMONIC ?? (options.dev ? options.devMnemonic : undefined);
  if (!mnemonic) throw new ConfigError('CHAIN_MNEMONIC: required outside `tracewell dev` (the key store derives ledger keys from it)');
  const seeds = loadParticipantsFile(config.TRACEWELL_PARTICIPANTS);
  const blobConnectionString = options.blobConnectionString ?? config.AZURE_STORAGE_CONNECTION_STRING;
  if (!blobConnectionString) throw new ConfigError('AZURE_STORAGE_CONNECTION_STRING: required outside `tracewell dev` (the document vault lives in blob storage)');

  const database = await openDatabase({
    url: config.DATABASE_URL,
    pgliteDir: config.TRACEWELL_DATA_DIR ? join(config.TRACEWELL_DATA_DIR, 'pglite') : undefined,
  });
  try {
    await database.migrate();
    const chain = await connectChain(options.rpcUrl);
    const keys = openKeyStore(config, options.dev, mnemonic);
    const admin = await keys.account(REGISTRAR_KEY_REF);
    const txSender = new TxSender(database.db, chain, config.CHAIN_RECEIPT_TIMEOUT);
    const deployment = await ensurePartRegistry(database.db, chain, admin, config.PART_REGISTRY_ADDRESS, options.deploy ?? false);
    log(`PartRegistry ${deployment.deployed ? 'deployed at' : 'found at'} ${deployment.address} (chain ${chain.chainId})`);
    const registry = new PartRegistry(chain.client, deployment.address as Address);
    // The contract gateway serves the project's own contract from the start.
    await registerContract(database.db, chain.chainId, { name: 'PartRegistry', address: deployment.address, abi: partRegistryAbi as Abi }, 'tracewell');
    const mirrorSignal = new MirrorSignal();
    const listener = await openLedgerListener(database.db, chain, registry, config, mirrorSignal, log);
    const documents = new DocumentVault({ container: blobContainer(blobConnectionString, config.DOCUMENTS_CONTAINER), db: database.db, keys, chainId: chain.chainId, maxBytes: config.DOCUMENT_MAX_BYTES });
    // Also proves the blob endpoint answers, before anything relies on it.
    await documents.ensureContainer();
    const seeded = await seedParticipants(database.db, keys, seeds);
    // Seeded participants get their on-chain roles here; those created over the API, by a workflow.
    const fund = options.dev || config.CHAIN_FUND_PARTICIPANTS;
    const onboarding = { registry, txSender, admin, fund };
    for (const participant of seeded) await syncParticipantOnChain(onboarding, participant, `seed:${deployment.address}`);
    const adminApiKey = config.TRACEWELL_ADMIN_API_KEY ?? (options.dev ? devAdminApiKey(config.TRACEWELL_DATA_DIR && join(config.TRACEWELL_DATA_DIR, 'admin-api-key')) : undefined);
    if (adminApiKey) await ensureAdmin(database.db, keys, REGISTRAR_KEY_REF, adminApiKey);
    await publishDirectory(database.db, config.TRACEWELL_LIFECYCLES, log);
    return {
      database,
      chain,
      keys,
      registry,
      txSender,
      listener,
      mirrorSignal,
      documents,
      activityDeps: { db: database.db, keys, registry, txSender, mirror: listener, documents, registrarKeyRef: REGISTRAR_KEY_REF, fundParticipants: fund },
      devAdminApiKey: config.TRACEWELL_ADMIN_API_KEY ? undefined : adminApiKey,
      close: () => database.close(),
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
