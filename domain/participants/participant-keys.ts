// A participant's two keys: a ledger key that signs its transactions, and a document key whose public
// half others encrypt documents to. Separate keys, so opening documents never needs the signing key.
import type { KeyStore } from './keystore.js';

export interface ParticipantKeys {
  keyRef: string;
  address: string;
  documentKeyRef: string;
  documentPublicKey: string;
}

/** New keys for `participantId`; `ledgerKeyRef` reuses an existing ledger key (e.g. the admin's). */
export async function createParticipantKeys(keys: KeyStore, participantId: string, ledgerKeyRef?: string): Promise<ParticipantKeys> {
  const keyRef = ledgerKeyRef ?? (await keys.createKey(`${participantId} ledger`));
  const documentKeyRef = await keys.createKey(`${participantId} documents`);
  const [account, documentPublicKey] = await Promise.all([keys.account(keyRef), keys.publicKey(documentKeyRef)]);
  return { keyRef, address: account.address, documentKeyRef, documentPublicKey };
}
