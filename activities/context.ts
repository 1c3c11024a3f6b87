// What the activities need from the outside world, built once per worker.
import type { Db } from '../db/client.js';
import type { KeyStore } from '../ledger/keystore.js';
import type { PartRegistry } from '../ledger/part-registry.js';
import type { TxSender } from '../ledger/tx-sender.js';

export interface ActivityDeps {
  db: Db;
  keys: KeyStore;
  registry: PartRegistry;
  txSender: TxSender;
  /** Key reference of the registrar account that mints parts. */
  registrarKeyRef: string;
}
