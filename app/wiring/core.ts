// The ledger-and-SQL core shared by the worker, the API and the intake: the database, the chain
// connection, the key store, the PartRegistry and the document vault. It only checks that the schema
// and the deployment are current (app/deploy/readiness.ts); `deploy: true` (dev, tests, benchmarks)
// runs `tracewell deploy`'s steps first, in this process.
import { join } from 'node:path';
import type { AppConfig } from '../config/app-config.js';
import { ConfigError } from '../config/config-error.js';
import { openDatabase } from '../../db/client.js';
import type { Database } from '../../db/client.js';
import { connectChain } from '../../domain/chain/connection.js';
import type { ChainConnection } from '../../domain/chain/connection.js';
import type { LedgerListener } from '../../domain/mirror/listener.js';
import { REGISTRAR_KEY_REF } from '../../domain/participants/keystore.js';
import type { KeyStore } from '../../domain/participants/keystore.js';
import { PartRegistry } from '../../domain/chain/part-registry.js';
import { TransactionManager } from '../../domain/chain/transaction-manager.js';
import type { SignerHook } from '../../domain/chain/transaction-manager.js';
import { loadTemporalConfig } from '../config/temporal.js';
import type { LedgerConfig } from '../config/temporal.js';
import { recoverLostTransactions } from '../../domain/chain/lost-transactions.js';
import type { ActivityDeps } from '../../activities/index.js';
import { DocumentVault } from '../../domain/documents/vault.js';
import { MirrorSignal } from '../../domain/streams/mirror-signal.js';
import { SecretBox } from '../../domain/streams/secret-box.js';
import { WebhookTargetPolicy } from '../../domain/streams/webhook-targets.js';
import { sealPlainSecrets } from '../../db/event-subscriptions.js';
import { KeyRevocations } from '../../domain/streams/key-revocations.js';
import { deploy } from '../deploy/deploy.js';
import { requireCurrentDeployment } from '../deploy/readiness.js';
import { devAdminApiKey } from '../deploy/seed-participants.js';
import { blobContainer } from './blob.js';
import { chainMnemonic, openKeyStore, webhookSecretBox } from './keys.js';
import { openLedgerListener } from './ledger-listener.js';

export interface Core {
  database: Database;
  chain: ChainConnection;
  keys: KeyStore;
  registry: PartRegistry;
  /** The process's one transaction manager: every chain write of the worker, the API and the anchor goes through it. */
  txSender: TransactionManager;
  /** Mirrors the contract's events into SQL: caught up by activities, run as a loop by `listener` and `dev`. */
  listener: LedgerListener;
  /** Announces new mirrored events to this process's streams. */
  mirrorSignal: MirrorSignal;
  /** This process's open event streams by API key: revoking a key closes them. */
  keyRevocations: KeyRevocations;
  documents: DocumentVault;
  /** Seals and opens webhook secrets (the key is a setting, never in SQL). */
  webhookSecrets: SecretBox;
  /** Where webhooks may go (WEBHOOK_ALLOWED_NETWORKS). */
  webhookTargets: WebhookTargetPolicy;
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
  /** Run the deploy (migrations, PartRegistry, seeding, lifecycles) first, as `tracewell dev` does; default false. */
  deploy?: boolean;
  devMnemonic?: string;
  /** Batching and confirmations (temporal.yaml `ledger`); default: read from TRACEWELL_TEMPORAL_CONFIG. */
  ledger?: LedgerConfig;
  /** Runs once per leader tick for each signer this process leads (stuck-transaction healing). */
  signerHook?: SignerHook;
  log?: (line: string) => void;
}

export async function openCore(options: CoreOptions): Promise<Core> {
  const { config, log = () => {} } = options;
  const mnemonic = chainMnemonic(config, options.dev, options.devMnemonic);
  const blobConnectionString = options.blobConnectionString ?? config.AZURE_STORAGE_CONNECTION_STRING;
  if (!blobConnectionString)
    throw new ConfigError('AZURE_STORAGE_CONNECTION_STRING: required outside `tracewell dev` (the document vault lives in blob storage)');

  const database = await openDatabase({
    url: config.DATABASE_URL,
    pgliteDir: config.TRACEWELL_DATA_DIR ? join(config.TRACEWELL_DATA_DIR, 'pglite') : undefined,
  });
  try {
    const chain = await connectChain(options.rpcUrl);
    const keys = openKeyStore(config, options.dev, mnemonic);
    const container = blobContainer(blobConnectionString, config.DOCUMENTS_CONTAINER);
    const fund = options.dev || config.CHAIN_FUND_PARTICIPANTS;
    // Dev makes its own admin key when none is given, and prints it.
    let devKey: string | undefined;
    if (options.deploy) {
      const dev =
        options.dev && !config.TRACEWELL_ADMIN_API_KEY
          ? devAdminApiKey(config.TRACEWELL_DATA_DIR && join(config.TRACEWELL_DATA_DIR, 'admin-api-key'))
          : undefined;
      devKey = dev?.key;
      const adminApiKey = config.TRACEWELL_ADMIN_API_KEY ?? devKey;
      await deploy({ database, chain, keys, config, container, fund, adminApiKey, freshAdminKey: dev?.fresh, log });
    }
    // Everything below only reads what the deploy set up.
    const address = await requireCurrentDeployment({ db: database.db, chain, config, container });
    // A deploy did this already; a process that only checks the deployment does it here, before its
    // worker, intake or gateway send anything (a node that lost blocks gets our writes back first).
    if (!options.deploy) await recoverLostTransactions(database.db, chain, { log });
    const registry = new PartRegistry(chain.client, address);
    const txSender = new TransactionManager({
      db: database.db,
      locks: database,
      chain,
      registry: address,
      settings: options.ledger ?? loadTemporalConfig(config.TRACEWELL_TEMPORAL_CONFIG).ledger,
      hook: options.signerHook,
      waitTimeoutMs: config.CHAIN_RECEIPT_TIMEOUT,
      log,
    });
    const mirrorSignal = new MirrorSignal();
    const listener = await openLedgerListener(database.db, chain, registry, config, mirrorSignal, log);
    const documents = new DocumentVault({ container, db: database.db, keys, chainId: chain.chainId, maxBytes: config.DOCUMENT_MAX_BYTES });
    // openKeyStore above has required a passphrase, so there is a key.
    const webhookSecrets = webhookSecretBox(config, options.dev)!;
    // Rows from before secrets were encrypted are sealed on the first start that can.
    const sealed = await sealPlainSecrets(
      database.db,
      (stored) => SecretBox.isSealed(stored),
      (plain) => webhookSecrets.seal(plain),
    );
    if (sealed > 0) log(`webhooks: encrypted ${sealed} webhook secrets stored in clear`);
    return {
      database,
      chain,
      keys,
      registry,
      txSender,
      listener,
      mirrorSignal,
      keyRevocations: new KeyRevocations(),
      documents,
      webhookSecrets,
      webhookTargets: new WebhookTargetPolicy(config.WEBHOOK_ALLOWED_NETWORKS),
      activityDeps: {
        db: database.db,
        keys,
        registry,
        txSender,
        mirror: listener,
        documents,
        registrarKeyRef: REGISTRAR_KEY_REF,
        fundParticipants: fund,
      },
      devAdminApiKey: devKey,
      close: async () => {
        await txSender.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
