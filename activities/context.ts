// What the activities need from the outside world, built once per worker.
import type { Db } from '../db/client.js';
import type { DocumentVault } from '../domain/documents/vault.js';
import type { KeyStore } from '../domain/participants/keystore.js';
import type { PartRegistry } from '../domain/chain/part-registry.js';
import type { TxSender } from '../domain/chain/tx-sender.js';

export interface ActivityDeps {
  db: Db;
  keys: KeyStore;
  registry: PartRegistry;
  txSender: TxSender;
  /** The ledger listener: an activity catches the SQL mirror up to its own write before it completes. */
  mirror: { catchUp(block?: bigint | null): Promise<void> };
  /** The document vault: certificates are verified against their signed documents. */
  documents: DocumentVault;
  /** Key reference of the contract admin, which grants participants their on-chain roles. */
  registrarKeyRef: string;
  /** On a dev chain, onboarding gives each participant gas money from the admin account. */
  fundParticipants: boolean;
}
