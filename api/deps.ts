import type { CommandDeps } from '../commands/deps.js';
import type { DocumentVault } from '../documents/vault.js';
import type { ChainConnection } from '../ledger/chain.js';
import type { LedgerRef } from '../ledger/event-log.js';
import type { KeyStore } from '../ledger/keystore.js';
import type { MirrorSignal } from '../streams/mirror-signal.js';
import type { TxSender } from '../ledger/tx-sender.js';

/** What the HTTP API needs: the commands' SQL, Temporal and contract, the chain, and the key store. */
export interface ApiDeps extends CommandDeps {
  chain: ChainConnection;
  /** Creates the keys of new participants. */
  keys: KeyStore;
  documents: DocumentVault;
  /** Sends the contract gateway's transactions (idempotent by key). */
  txSender: TxSender;
  /** The contract whose events the mirror holds and the streams deliver. */
  ledger: LedgerRef;
  /** Announces new mirrored events (at once in the listener's process; streams also poll). */
  mirrorSignal: MirrorSignal;
}
