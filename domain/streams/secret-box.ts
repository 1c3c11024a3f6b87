// Secrets kept in SQL encrypted with a key that is not in SQL (AES-256-GCM): a copy of the database
// alone does not give away webhook signing secrets. A webhook secret must be read back to sign, so it
// is encrypted, not hashed. Stored as `enc:v1:<base64 nonce>:<base64 ciphertext+tag>`.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

const PREFIX = 'enc:v1:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The stored value cannot be opened: another key, or edited. */
export class SecretUnreadableError extends Error {
  override name = 'SecretUnreadableError';
}

export class SecretBox {
  private readonly key: Buffer;

  /** @param key 32 bytes */
  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError('a secret box key is 32 bytes');
    this.key = Buffer.from(key);
  }

  /** A key from a passphrase (scrypt, salted per purpose): for a box whose key is a setting's phrase. */
  static fromPassphrase(passphrase: string, purpose: string): SecretBox {
    return new SecretBox(scryptSync(passphrase, `tracewell:${purpose}`, 32));
  }

  /** Whether a stored value is sealed (rather than a plain value from before encryption). */
  static isSealed(stored: string): boolean {
    return stored.startsWith(PREFIX);
  }

  seal(plain: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const sealed = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}${nonce.toString('base64')}:${sealed.toString('base64')}`;
  }

  open(stored: string): string {
    if (!SecretBox.isSealed(stored)) throw new SecretUnreadableError('the value is not sealed');
    const [nonce, sealed] = stored
      .slice(PREFIX.length)
      .split(':')
      .map((part) => Buffer.from(part, 'base64'));
    if (!nonce || !sealed || nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES)
      throw new SecretUnreadableError('the sealed value is malformed');
    const decipher = createDecipheriv('aes-256-gcm', this.key, nonce);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretUnreadableError('the sealed value does not open with this key (another WEBHOOK_SECRETS_KEY?)');
    }
  }
}
