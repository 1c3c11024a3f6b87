// Where participants' ledger keys live. A key is named by a reference stored with the participant
// (`hd:<index>`), never by the key itself, so SQL holds no secrets.
import { mnemonicToAccount } from 'viem/accounts';
import type { HDAccount } from 'viem/accounts';

export interface KeyStore {
  /** The signing account behind a key reference. */
  account(keyRef: string): HDAccount;
}

export class UnknownKeyError extends Error {
  override name = 'UnknownKeyError';
}

/** The registrar (contract admin and minter) uses the first key; participants use the next ones. */
export const REGISTRAR_KEY_REF = 'hd:0';

/** A BIP-32 hierarchical key store derived from one mnemonic (m/44'/60'/0'/0/<index>). */
export class HdKeyStore implements KeyStore {
  private readonly cache = new Map<string, HDAccount>();

  constructor(private readonly mnemonic: string) {}

  account(keyRef: string): HDAccount {
    const cached = this.cache.get(keyRef);
    if (cached) return cached;
    const match = /^hd:(\d+)$/.exec(keyRef);
    if (!match) throw new UnknownKeyError(`unknown key reference "${keyRef}" (expected hd:<index>)`);
    const account = mnemonicToAccount(this.mnemonic, { addressIndex: Number(match[1]) });
    this.cache.set(keyRef, account);
    return account;
  }
}
