// The key store of a process: HD keys from CHAIN_MNEMONIC (the contract admin's among them) and
// participants' encrypted key files; and the key webhook secrets are encrypted with in SQL.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '../config/app-config.js';
import { ConfigError } from '../config/config-error.js';
import { CompositeKeyStore, FileKeyStore, HdKeyStore } from '../../domain/participants/keystore.js';
import type { KeyStore } from '../../domain/participants/keystore.js';
import { SecretBox } from '../../domain/streams/secret-box.js';

/** Dev keys are as public as the dev mnemonic: fine for a local chain, refused anywhere else. */
const DEV_KEYSTORE_PASSPHRASE = 'tracewell-dev-keystore';
/** Cheap key files for dev, where the keys guard nothing of value. */
const DEV_SCRYPT_N = 4096;

/** CHAIN_MNEMONIC, or in dev the dev mnemonic. */
export function chainMnemonic(config: AppConfig, dev: boolean, devMnemonic?: string): string {
  const mnemonic = config.CHAIN_MNEMONIC ?? (dev ? devMnemonic : undefined);
  if (!mnemonic) throw new ConfigError('CHAIN_MNEMONIC: required outside `tracewell dev` (the key store derives ledger keys from it)');
  return mnemonic;
}

export function openKeyStore(config: AppConfig, dev: boolean, mnemonic: string): KeyStore {
  const passphrase = config.TRACEWELL_KEYSTORE_PASSPHRASE ?? (dev ? DEV_KEYSTORE_PASSPHRASE : undefined);
  if (!passphrase)
    throw new ConfigError("TRACEWELL_KEYSTORE_PASSPHRASE: required outside `tracewell dev` (it unlocks the participants' key files)");
  // A throwaway key store only goes with a throwaway database: participants kept in a database
  // outlive the process, and so must their keys.
  const ephemeral = dev && !config.DATABASE_URL;
  const dir =
    config.TRACEWELL_KEYSTORE_DIR ??
    (config.TRACEWELL_DATA_DIR
      ? join(config.TRACEWELL_DATA_DIR, 'keystore')
      : ephemeral
        ? mkdtempSync(join(tmpdir(), 'tracewell-keystore-'))
        : undefined);
  if (!dir)
    throw new ConfigError(
      "TRACEWELL_KEYSTORE_DIR: say where the participants' key files live (or set TRACEWELL_DATA_DIR); they must last as long as the database",
    );
  const files = new FileKeyStore({
    dir,
    passphrase,
    scryptN: config.TRACEWELL_KEYSTORE_PASSPHRASE || !dev ? config.TRACEWELL_KEYSTORE_SCRYPT_N : DEV_SCRYPT_N,
  });
  return new CompositeKeyStore([new HdKeyStore(mnemonic), files], { createWith: files });
}

/**
 * The box webhook secrets are sealed with: WEBHOOK_SECRETS_KEY, else a key derived from the key
 * store's passphrase (in dev the dev one), so the key is never in the database. Undefined when
 * neither is set (a `tracewell listener` given only DATABASE_URL and CHAIN_RPC_URL): that process
 * cannot sign webhooks.
 */
export function webhookSecretBox(config: AppConfig, dev: boolean): SecretBox | undefined {
  if (config.WEBHOOK_SECRETS_KEY) return new SecretBox(Buffer.from(config.WEBHOOK_SECRETS_KEY, 'hex'));
  const passphrase = config.TRACEWELL_KEYSTORE_PASSPHRASE ?? (dev ? DEV_KEYSTORE_PASSPHRASE : undefined);
  return passphrase === undefined ? undefined : SecretBox.fromPassphrase(passphrase, 'webhook-secrets');
}
