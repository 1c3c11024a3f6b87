// Where participants' ledger keys live. A key is named by a reference stored with the participant
// (`hd:<index>`, `file:<uuid>`), never by the key itself, so SQL holds no secrets. Every store is
// async because a remote one (e.g. Azure Key Vault) signs over the network.
import { createCipheriv, createDecipheriv, pbkdf2, randomBytes, randomUUID, scrypt } from 'node:crypto';
import type { ScryptOptions } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { concat, hexToBytes, keccak256, pad, toHex } from 'viem';
import type { Hex, LocalAccount } from 'viem';
import { generatePrivateKey, mnemonicToAccount, privateKeyToAccount } from 'viem/accounts';
import type { HDAccount } from 'viem/accounts';
import { z } from 'zod';
import { unsealWithPrivateKey } from './sealed-box.js';
import { CodedError } from '../errors/coded-error.js';
import type { ErrorEntry } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';

export interface KeyStore {
  /** The reference prefixes this store serves, e.g. `['file:']`; routing errors name them. */
  readonly prefixes: readonly string[];
  /** Creates a fresh secp256k1 key and returns its reference (never the key). */
  createKey(label?: string): Promise<string>;
  /** The signing account behind a reference (async: a remote store signs over the network). */
  account(keyRef: string): Promise<LocalAccount>;
  /** The key's public key, uncompressed 0x04… hex (for documents encrypted to a participant). */
  publicKey(keyRef: string): Promise<Hex>;
  /**
   * Opens a box sealed to the key's public key (ECIES, see `sealed-box.ts`) inside the store, so the
   * private key never leaves it: a remote store would do this with its own ECDH operation.
   */
  unseal(keyRef: string, box: Uint8Array): Promise<Uint8Array>;
  /** Whether this store serves the reference (by its prefix). */
  handles(keyRef: string): boolean;
}

/** A loaded key: the signing account and the private key behind it, kept in memory by the store. */
interface LoadedKey {
  account: LocalAccount;
  privateKey: Hex;
}

/** A key store's refusal, coded by its catalogue entry (the subclasses say which). */
export abstract class KeyStoreError extends CodedError<ErrorEntry<string, '{problem}'>> {
  override name = 'KeyStoreError';
  constructor(entry: ErrorEntry<string, '{problem}'>, problem: string) {
    super(entry, { problem });
  }
}
/** No store, file or derivation serves the reference. */
export class UnknownKeyError extends KeyStoreError {
  override name = 'UnknownKeyError';
  constructor(problem: string) {
    super(Errors.missing_key, problem);
  }
}
/** The store cannot create keys (its keys are derived, not generated). */
export class KeyStoreReadOnlyError extends KeyStoreError {
  override name = 'KeyStoreReadOnlyError';
  constructor(problem: string) {
    super(Errors.key_store_read_only, problem);
  }
}
/** The key file's MAC does not match: a wrong passphrase or a corrupted file. */
export class KeyStorePassphraseError extends KeyStoreError {
  override name = 'KeyStorePassphraseError';
  constructor(problem: string) {
    super(Errors.key_passphrase_wrong, problem);
  }
}
/** The file is not a Web3 Secret Storage v3 key file this store can read. */
export class InvalidKeyFileError extends KeyStoreError {
  override name = 'InvalidKeyFileError';
  constructor(problem: string) {
    super(Errors.invalid_key_file, problem);
  }
}

/** The registrar (contract admin and minter) uses the first key; participants use the next ones. */
export const REGISTRAR_KEY_REF = 'hd:0';

/** A BIP-32 hierarchical key store derived from one mnemonic (m/44'/60'/0'/0/<index>). */
export class HdKeyStore implements KeyStore {
  readonly prefixes = ['hd:'];
  private readonly cache = new Map<string, { account: HDAccount; privateKey: Hex }>();

  constructor(private readonly mnemonic: string) {}

  async createKey(): Promise<string> {
    throw new KeyStoreReadOnlyError('an HD key store derives its keys from its mnemonic and cannot create new ones');
  }

  handles(keyRef: string): boolean {
    return keyRef.startsWith('hd:');
  }

  async account(keyRef: string): Promise<HDAccount> {
    return this.load(keyRef).account;
  }

  async publicKey(keyRef: string): Promise<Hex> {
    return (await this.account(keyRef)).publicKey;
  }

  async unseal(keyRef: string, box: Uint8Array): Promise<Uint8Array> {
    return unsealWithPrivateKey(this.load(keyRef).privateKey, box);
  }

  private load(keyRef: string): { account: HDAccount; privateKey: Hex } {
    const cached = this.cache.get(keyRef);
    if (cached) return cached;
    // At most 9 digits keeps the index below 2^31, the first hardened (unusable here) index.
    const match = /^hd:(\d{1,9})$/.exec(keyRef);
    if (!match) throw new UnknownKeyError(`unknown key reference "${keyRef}" (expected hd:<index>)`);
    const account = mnemonicToAccount(this.mnemonic, { addressIndex: Number(match[1]) });
    const loaded = { account, privateKey: toHex(account.getHdKey().privateKey!) };
    this.cache.set(keyRef, loaded);
    return loaded;
  }
}

export interface FileKeyStoreOptions {
  dir: string;
  passphrase: string;
  /** scrypt cost of new keys, a power of two (geth's default is 2^18; old files keep their own). */
  scryptN?: number;
}

const FILE_REF = /^file:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
// Refuse files whose scrypt parameters would make this process allocate more than this.
const MAX_SCRYPT_MEMORY = 2 ** 31;

/**
 * Keys in a directory of Web3 Secret Storage v3 files (`<dir>/<uuid>.json`), the format geth,
 * foundry's `cast wallet` and MetaMask import, all sealed with one passphrase.
 */
export class FileKeyStore implements KeyStore {
  readonly prefixes = ['file:'];
  private readonly dir: string;
  private readonly passphrase: string;
  private readonly scryptN: number;
  // Promises, so concurrent first uses of a key run the (deliberately slow) KDF once.
  private readonly cache = new Map<string, Promise<LoadedKey>>();

  constructor({ dir, passphrase, scryptN = 131072 }: FileKeyStoreOptions) {
    if (!Number.isInteger(Math.log2(scryptN)) || scryptN < 2 || scryptMemory(scryptN, 8, 1) > MAX_SCRYPT_MEMORY) {
      throw new RangeError(`scryptN must be a power of two from 2 to 2^20, got ${scryptN}`);
    }
    this.dir = dir;
    this.passphrase = passphrase;
    this.scryptN = scryptN;
  }

  handles(keyRef: string): boolean {
    return keyRef.startsWith('file:');
  }

  async createKey(label?: string): Promise<string> {
    const privateKey = generatePrivateKey();
    const account = privateKeyToAccount(privateKey);
    const id = randomUUID();
    const file: V3KeyFile = {
      version: 3,
      id,
      address: account.address.slice(2).toLowerCase(),
      crypto: await encrypt(hexToBytes(privateKey), this.passphrase, this.scryptN),
      // An extra top-level field: geth and other readers ignore it.
      ...(label === undefined ? {} : { label }),
    };
    await writeFileAtomically(this.dir, `${id}.json`, JSON.stringify(file));
    const keyRef = `file:${id}`;
    this.cache.set(keyRef, Promise.resolve({ account, privateKey }));
    return keyRef;
  }

  async account(keyRef: string): Promise<LocalAccount> {
    return (await this.loaded(keyRef)).account;
  }

  async publicKey(keyRef: string): Promise<Hex> {
    return (await this.account(keyRef)).publicKey;
  }

  async unseal(keyRef: string, box: Uint8Array): Promise<Uint8Array> {
    return unsealWithPrivateKey((await this.loaded(keyRef)).privateKey, box);
  }

  private loaded(keyRef: string): Promise<LoadedKey> {
    let key = this.cache.get(keyRef);
    if (!key) {
      key = this.load(keyRef);
      this.cache.set(keyRef, key);
      // Failures are not remembered: the file may appear (another process) or be repaired.
      key.catch(() => this.cache.delete(keyRef));
    }
    return key;
  }

  private async load(keyRef: string): Promise<LoadedKey> {
    // The strict uuid pattern also keeps a reference from naming a path outside the directory.
    const id = FILE_REF.exec(keyRef)?.[1];
    if (!id) throw new UnknownKeyError(`unknown key reference "${keyRef}" (expected file:<uuid>)`);
    const path = join(this.dir, `${id}.json`);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UnknownKeyError(`no key file for "${keyRef}" (${path})`);
      throw error;
    }
    const file = parseKeyFile(text, path);
    const privateKey = await decrypt(file.crypto, this.passphrase, path);
    const account = privateKeyToAccount(privateKey);
    // The address is stored in clear: a file naming another key than it holds is not trusted.
    if (file.address !== undefined && file.address.replace(/^0x/i, '').toLowerCase() !== account.address.slice(2).toLowerCase()) {
      throw new InvalidKeyFileError(`${path} holds a key for another address than the one it names`);
    }
    return { account, privateKey };
  }
}

/** Routes each reference to the store that serves it; new keys go to `createWith`. */
export class CompositeKeyStore implements KeyStore {
  readonly prefixes: readonly string[];
  private readonly createWith: KeyStore;

  constructor(
    private readonly stores: readonly KeyStore[],
    options: { createWith: KeyStore },
  ) {
    // Otherwise the references it creates could not be routed back to it.
    if (!stores.includes(options.createWith)) throw new RangeError('createWith must be one of the stores');
    this.createWith = options.createWith;
    this.prefixes = stores.flatMap((store) => store.prefixes);
  }

  createKey(label?: string): Promise<string> {
    return this.createWith.createKey(label);
  }

  async account(keyRef: string): Promise<LocalAccount> {
    return this.storeFor(keyRef).account(keyRef);
  }

  async publicKey(keyRef: string): Promise<Hex> {
    return this.storeFor(keyRef).publicKey(keyRef);
  }

  async unseal(keyRef: string, box: Uint8Array): Promise<Uint8Array> {
    return this.storeFor(keyRef).unseal(keyRef, box);
  }

  handles(keyRef: string): boolean {
    return this.stores.some((store) => store.handles(keyRef));
  }

  private storeFor(keyRef: string): KeyStore {
    const store = this.stores.find((candidate) => candidate.handles(keyRef));
    if (!store) throw new UnknownKeyError(`no key store serves "${keyRef}" (supported prefixes: ${this.prefixes.join(', ')})`);
    return store;
  }
}

// ---- Web3 Secret Storage v3 ----
// https://ethereum.org/en/developers/docs/data-structures-and-encoding/web3-secret-storage/

const hexString = z.string().regex(/^(?:[0-9a-fA-F]{2})+$/, 'expected hex');
const v3Crypto = z
  .object({
    cipher: z.literal('aes-128-ctr'),
    cipherparams: z.object({ iv: hexString }),
    ciphertext: hexString,
    mac: hexString,
  })
  .and(
    z.discriminatedUnion('kdf', [
      z.object({
        kdf: z.literal('scrypt'),
        kdfparams: z.object({
          dklen: z.literal(32),
          n: z.number().int(),
          r: z.number().int().positive(),
          p: z.number().int().positive(),
          salt: hexString,
        }),
      }),
      z.object({
        kdf: z.literal('pbkdf2'),
        kdfparams: z.object({ dklen: z.literal(32), c: z.number().int().positive(), prf: z.literal('hmac-sha256'), salt: hexString }),
      }),
    ]),
  );
const v3KeyFile = z.object({
  version: z.literal(3),
  id: z.string(),
  address: z.string().optional(),
  label: z.string().optional(),
  crypto: v3Crypto,
});
type V3Crypto = z.infer<typeof v3Crypto>;
type V3KeyFile = z.infer<typeof v3KeyFile>;

function parseKeyFile(text: string, path: string): V3KeyFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new InvalidKeyFileError(`${path} is not JSON`);
  }
  const parsed = v3KeyFile.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`).join('; ');
    throw new InvalidKeyFileError(`${path} is not a supported Web3 Secret Storage v3 key file (${problems})`);
  }
  return parsed.data;
}

async function encrypt(privateKey: Uint8Array, passphrase: string, n: number): Promise<V3Crypto> {
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const kdfparams = { dklen: 32 as const, n, r: 8, p: 1, salt: salt.toString('hex') };
  const derivedKey = await scryptKey(passphrase, salt, kdfparams);
  const cipher = createCipheriv('aes-128-ctr', derivedKey.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(privateKey), cipher.final()]);
  return {
    cipher: 'aes-128-ctr',
    cipherparams: { iv: iv.toString('hex') },
    ciphertext: ciphertext.toString('hex'),
    kdf: 'scrypt',
    kdfparams,
    mac: macOf(derivedKey, ciphertext),
  };
}

async function decrypt(crypto: V3Crypto, passphrase: string, path: string): Promise<Hex> {
  const salt = Buffer.from(crypto.kdfparams.salt, 'hex');
  const derivedKey =
    crypto.kdf === 'scrypt'
      ? await scryptKey(passphrase, salt, crypto.kdfparams, path)
      : await pbkdf2Async(passphrase, salt, crypto.kdfparams.c, 32, 'sha256');
  const ciphertext = Buffer.from(crypto.ciphertext, 'hex');
  // The message names the file only: never the passphrase or anything derived from it.
  if (macOf(derivedKey, ciphertext) !== crypto.mac.toLowerCase()) {
    throw new KeyStorePassphraseError(`cannot decrypt ${path}: wrong passphrase or corrupted file`);
  }
  const decipher = createDecipheriv('aes-128-ctr', derivedKey.subarray(0, 16), Buffer.from(crypto.cipherparams.iv, 'hex'));
  const privateKey = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  if (privateKey.length > 32) throw new InvalidKeyFileError(`${path} does not hold a secp256k1 key`);
  // Some old writers dropped leading zero bytes; geth reads the key as a big-endian number too.
  return pad(`0x${privateKey.toString('hex')}`, { size: 32 });
}

/** keccak256(derivedKey[16..32] ++ ciphertext), lowercase hex without 0x, as stored in `mac`. */
function macOf(derivedKey: Uint8Array, ciphertext: Uint8Array): string {
  return keccak256(concat([derivedKey.subarray(16, 32), ciphertext])).slice(2);
}

const pbkdf2Async = promisify(pbkdf2);

// What OpenSSL allocates, 128·r·(N + p + 2) bytes: node's default limit (32 MiB) is below geth's N = 2^18.
const scryptMemory = (n: number, r: number, p: number): number => 128 * r * (n + p + 2);

function scryptKey(passphrase: string, salt: Buffer, { n, r, p }: { n: number; r: number; p: number }, path = 'new key'): Promise<Buffer> {
  const maxmem = scryptMemory(n, r, p);
  if (maxmem > MAX_SCRYPT_MEMORY)
    return Promise.reject(new InvalidKeyFileError(`${path}: scrypt parameters need more than ${MAX_SCRYPT_MEMORY} bytes`));
  const options: ScryptOptions = { N: n, r, p, maxmem };
  return new Promise((resolve, reject) => {
    try {
      scrypt(passphrase, salt, 32, options, (error, key) => (error ? reject(error) : resolve(key)));
    } catch (error) {
      // Node validates parameters synchronously, per RFC 7914 (N a power of two below 2^(16·r)).
      reject(new InvalidKeyFileError(`${path}: unsupported scrypt parameters n=${n}, r=${r}, p=${p} (${(error as Error).message})`));
    }
  });
}

/** Writes `<dir>/<name>` readable by the owner only, so a crash never leaves a half-written key. */
async function writeFileAtomically(dir: string, name: string, data: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Hidden, so directory scanners (geth's included) skip a leftover one.
  const tmp = join(dir, `.${name}.tmp`);
  try {
    const file = await open(tmp, 'wx', 0o600);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, join(dir, name));
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
  // A key whose reference is already stored must survive a crash: flush the directory entry too.
  const directory = await open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
