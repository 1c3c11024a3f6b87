import type { CommandDeps } from '../domain/commands/deps.js';
import type { DocumentVault } from '../domain/documents/vault.js';
import type { ChainConnection } from '../domain/chain/connection.js';
import type { LedgerRef } from '../domain/mirror/event-log.js';
import type { KeyStore } from '../domain/participants/keystore.js';
import type { KeyRevocations } from '../domain/streams/key-revocations.js';
import type { MirrorSignal } from '../domain/streams/mirror-signal.js';
import type { SecretBox } from '../domain/streams/secret-box.js';
import type { WebhookTargetPolicy } from '../domain/streams/webhook-targets.js';
import type { TxSender } from '../domain/chain/tx-sender.js';

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
  /** Seals webhook secrets before they are stored. */
  webhookSecrets: SecretBox;
  /** Where webhook URLs may point. */
  webhookTargets: WebhookTargetPolicy;
  /** This process's open streams by API key: revoking a key closes them. */
  keyRevocations: KeyRevocations;
}
