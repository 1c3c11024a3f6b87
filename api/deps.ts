import type { Client } from '@temporalio/client';
import type { Db } from '../db/client.js';
import type { DocumentVault } from '../documents/vault.js';
import type { ChainConnection } from '../ledger/chain.js';
import type { LedgerRef } from '../ledger/event-log.js';
import type { KeyStore } from '../ledger/keystore.js';
import type { PartRegistry } from '../ledger/part-registry.js';
import type { MirrorSignal } from '../streams/mirror-signal.js';
import type { ActivityPolicies } from '../workflows/types.js';

/** What the HTTP API needs: the SQL mirror, the Temporal client, the chain, and the key store. */
export interface ApiDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  /** Activity policies from temporal.yaml, pinned into each new part's workflow input. */
  policies: ActivityPolicies;
  chain: ChainConnection;
  /** Reads who holds a part, to refuse a non-holder's action before it reaches the chain. */
  registry: PartRegistry;
  /** Creates the keys of new participants. */
  keys: KeyStore;
  documents: DocumentVault;
  /** The contract whose events the mirror holds and the streams deliver. */
  ledger: LedgerRef;
  /** Announces new mirrored events (at once in the listener's process; streams also poll). */
  mirrorSignal: MirrorSignal;
}
