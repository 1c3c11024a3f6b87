// What the activities need from the outside world, built once per worker.
import type { Db } from '../db/client.js';
import type { DocumentVault } from '../documents/vault.js';
import type { EventMirror } from '../ledger/event-mirror.js';
import type { KeyStore } from '../ledger/keystore.js';
import type { PartRegistry } from '../ledger/part-registry.js';
import type { TxSender } from '../ledger/tx-sender.js';

export interface ActivityDeps {
  db: Db;
  keys: KeyStore;
  registry: PartRegistry;
  txSender: TxSender;
  /** Mirrors the events of each transaction into SQL as soon as it is mined. */
  mirror: EventMirror;
  /** The document vault: certificates are verified against their signed documents. */
  documents: DocumentVault;
  /** Key reference of the contract admin, which grants participants their on-chain roles. */
  registrarKeyRef: string;
  /** On a dev chain, onboarding gives each participant gas money from the admin account. */
  fundParticipants: boolean;
}
