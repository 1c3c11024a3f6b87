import { createDecipheriv, scryptSync } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concat, keccak256, verifyMessage } from 'viem';
import { privateKeyToAccount, publicKeyToAddress } from 'viem/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { DEV_MNEMONIC } from '../../app/devstack/services.js';
import {
  CompositeKeyStore,
  FileKeyStore,
  HdKeyStore,
  InvalidKeyFileError,
  KeyStorePassphraseError,
  KeyStoreReadOnlyError,
  REGISTRAR_KEY_REF,
  UnknownKeyError,
} from '../../domain/participants/keystore.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tracewell-keystore-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

const PASSPHRASE = 'correct horse battery staple';
// A cheap scrypt cost keeps the tests fast; the production default is 2^17.
const fileStore = (dir: string, passphrase = PASSPHRASE) => new FileKeyStore({ dir, passphrase, scryptN: 1024 });
const idOf = (keyRef: string) => keyRef.slice('file:'.length);

describe('FileKeyStore', () => {
  it('creates a key whose account signs verifiably, with a public key of the same address', async () => {
    const store = fileStore(await tempDir());
    const keyRef = await store.createKey('alice');
    expect(keyRef).toMatch(/^file:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const account = await store.account(keyRef);
    const signature = await account.signMessage({ message: 'part wafer-1 received' });
    expect(await verifyMessage({ address: account.address, message: 'part wafer-1 received', signature })).toBe(true);
    const publicKey = await store.publicKey(keyRef);
    expect(publicKey).toMatch(/^0x04[0-9a-f]{128}$/);
    expect(publicKeyToAddress(publicKey)).toBe(account.address);
    expect((await store.account(await store.createKey())).address).not.toBe(account.address);
  });

  it('reads the same key from another instance on the same directory', async () => {
    const dir = await tempDir();
    const keyRef = await fileStore(dir).createKey();
    const created = await fileStore(dir).account(keyRef);
    const reopened = fileStore(dir);
    expect(reopened.handles(keyRef)).toBe(true);
    expect((await reopened.account(keyRef)).address).toBe(created.address);
    expect(await reopened.publicKey(keyRef)).toBe(created.publicKey);
  });

  it('refuses a wrong passphrase without naming it', async () => {
    const dir = await tempDir();
    const keyRef = await fileStore(dir).createKey();
    const error = await fileStore(dir, 'not the passphrase')
      .account(keyRef)
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeyStorePassphraseError);
    expect((error as Error).message).not.toContain('not the passphrase');
  });

  it('reports unknown references', async () => {
    const store = fileStore(await tempDir());
    await expect(store.account('file:00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(UnknownKeyError);
    await expect(store.account('file:../../etc/passwd')).rejects.toBeInstanceOf(UnknownKeyError);
    await expect(store.publicKey('hd:0')).rejects.toBeInstanceOf(UnknownKeyError);
    expect(store.handles('hd:0')).toBe(false);
  });

  it('writes one v3 file, 0600 in a 0700 directory, that holds no plaintext key and decrypts per the spec', async () => {
    const dir = join(await tempDir(), 'keys');
    const keyRef = await fileStore(dir).createKey('warehouse 7');
    const id = idOf(keyRef);
    expect(await readdir(dir)).toEqual([`${id}.json`]); // no temporary file left behind
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const path = join(dir, `${id}.json`);
    expect((await stat(path)).mode & 0o777).toBe(0o600);

    const text = await readFile(path, 'utf8');
    const file = JSON.parse(text);
    expect(file).toEqual({
      version: 3,
      id,
      address: expect.stringMatching(/^[0-9a-f]{40}$/),
      label: 'warehouse 7',
      crypto: {
        cipher: 'aes-128-ctr',
        cipherparams: { iv: expect.stringMatching(/^[0-9a-f]{32}$/) },
        ciphertext: expect.stringMatching(/^[0-9a-f]{64}$/),
        kdf: 'scrypt',
        kdfparams: { dklen: 32, n: 1024, r: 8, p: 1, salt: expect.stringMatching(/^[0-9a-f]{64}$/) },
        mac: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    });

    // Decrypt by the spec, independently of the store, to learn the key and check the file for it.
    const { kdfparams, cipherparams, ciphertext, mac } = file.crypto;
    const derivedKey = scryptSync(PASSPHRASE, Buffer.from(kdfparams.salt, 'hex'), 32, { N: kdfparams.n, r: kdfparams.r, p: kdfparams.p });
    expect(keccak256(concat([derivedKey.subarray(16, 32), Buffer.from(ciphertext, 'hex')])).slice(2)).toBe(mac);
    const decipher = createDecipheriv('aes-128-ctr', derivedKey.subarray(0, 16), Buffer.from(cipherparams.iv, 'hex'));
    const privateKey = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'hex')), decipher.final()]).toString('hex');
    const account = privateKeyToAccount(`0x${privateKey}`);
    expect(account.address).toBe((await fileStore(dir).account(keyRef)).address);
    expect(`0x${file.address}`).toBe(account.address.toLowerCase());
    expect(text.toLowerCase()).not.toContain(privateKey);
  });

  it('keeps decrypted accounts in memory', async () => {
    const dir = await tempDir();
    const store = fileStore(dir);
    const keyRef = await fileStore(dir).createKey();
    const first = await store.account(keyRef);
    await unlink(join(dir, `${idOf(keyRef)}.json`));
    expect(await store.account(keyRef)).toBe(first);
  });

  it('rejects files that are not readable v3 key files', async () => {
    const dir = await tempDir();
    const store = fileStore(dir);
    const keyRef = await fileStore(dir).createKey();
    const path = join(dir, `${idOf(keyRef)}.json`);
    const valid = JSON.parse(await readFile(path, 'utf8'));
    const variants: unknown[] = [
      'not json',
      { ...valid, version: 1 },
      { ...valid, crypto: { ...valid.crypto, cipher: 'aes-128-cbc' } },
      { ...valid, crypto: { ...valid.crypto, kdf: 'argon2id' } },
      { ...valid, crypto: { ...valid.crypto, kdfparams: { ...valid.crypto.kdfparams, n: 1000 } } },
      { ...valid, crypto: { ...valid.crypto, kdfparams: { ...valid.crypto.kdfparams, n: 2 ** 30 } } },
    ];
    for (const variant of variants) {
      await writeFile(path, typeof variant === 'string' ? variant : JSON.stringify(variant));
      await expect(store.account(keyRef)).rejects.toBeInstanceOf(InvalidKeyFileError);
    }
  });

  it('refuses a scrypt cost that is not a power of two', () => {
    expect(() => new FileKeyStore({ dir: tmpdir(), passphrase: PASSPHRASE, scryptN: 1000 })).toThrow(RangeError);
  });
});

describe('FileKeyStore interop', () => {
  // The published Web3 Secret Storage test vectors (ethereum.org), password "testpassword".
  const VECTOR_ID = '3198bc9c-6672-5ab3-d995-4942343ae5b6';
  const VECTOR_ADDRESS = '0x008aeeda4d805471df9b2a5b0f38a0c3bcba786b';

  async function storeHolding(id: string, file: object, passphrase: string): Promise<FileKeyStore> {
    const dir = await tempDir();
    await writeFile(join(dir, `${id}.json`), JSON.stringify(file));
    return new FileKeyStore({ dir, passphrase });
  }

  it('reads the PBKDF2-SHA-256 test vector', async () => {
    const file = {
      crypto: {
        cipher: 'aes-128-ctr',
        cipherparams: { iv: '6087dab2f9fdbbfaddc31a909735c1e6' },
        ciphertext: '5318b4d5bcd28de64ee5559e671353e16f075ecae9f99c7a79a38af5f869aa46',
        kdf: 'pbkdf2',
        kdfparams: { c: 262144, dklen: 32, prf: 'hmac-sha256', salt: 'ae3cd4e7013836a3df6bd7241b12db061dbe2c6785853cce422d148a624ce0bd' },
        mac: '517ead924a9d0dc3124507e3393d175ce3ff7c1e96529c6c555ce9e51205e9b2',
      },
      id: VECTOR_ID,
      version: 3,
    };
    const account = await (await storeHolding(VECTOR_ID, file, 'testpassword')).account(`file:${VECTOR_ID}`);
    expect(account.address.toLowerCase()).toBe(VECTOR_ADDRESS);
    expect(account.address).toBe(privateKeyToAccount('0x7a28b5ba57c53603b0b07b56bba752f7784bf506fa95edc395f5cf6c7514fe9d').address);
    await expect((await storeHolding(VECTOR_ID, file, 'wrongpassword')).account(`file:${VECTOR_ID}`)).rejects.toBeInstanceOf(
      KeyStorePassphraseError,
    );
  });

  it('reports the legacy scrypt test vector as unsupported: its r=1, N=2^18 break RFC 7914, which OpenSSL enforces', async () => {
    // As in the old wiki and go-ethereum's accounts/keystore/testdata/v3_test_vector.json. Readers built on
    // RFC-conformant scrypt (OpenSSL, so node:crypto) refuse N >= 2^(16·r); only Go-style scrypt accepts it.
    const file = {
      crypto: {
        cipher: 'aes-128-ctr',
        cipherparams: { iv: '83dbcc02d8ccb40e466191a123791e0e' },
        ciphertext: 'd172bf743a674da9cdad04534d56926ef8358534d458fffccd4e6ad2fbde479c',
        kdf: 'scrypt',
        kdfparams: { dklen: 32, n: 262144, r: 1, p: 8, salt: 'ab0c7876052600dd703518d6fc3fe8984592145b591fc8fb5c6d43190334ba19' },
        mac: '2103ac29920d71da29f15d75b4a16dbe95cfd7ff8faea1056c33131d846e3097',
      },
      id: VECTOR_ID,
      version: 3,
    };
    await expect((await storeHolding(VECTOR_ID, file, 'testpassword')).account(`file:${VECTOR_ID}`)).rejects.toBeInstanceOf(
      InvalidKeyFileError,
    );
  });

  it('reads a scrypt key file written by geth', async () => {
    // go-ethereum accounts/keystore/testdata/keystore/aaa, password "foobar".
    const id = '472e8b3d-afb6-45b5-8111-72c89895099a';
    const file = {
      address: 'f466859ead1932d743d622cb74fc058882e8648a',
      crypto: {
        cipher: 'aes-128-ctr',
        ciphertext: 'cb664472deacb41a2e995fa7f96fe29ce744471deb8d146a0e43c7898c9ddd4d',
        cipherparams: { iv: 'dfd9ee70812add5f4b8f89d0811c9158' },
        kdf: 'scrypt',
        kdfparams: { dklen: 32, n: 8, p: 16, r: 8, salt: '0d6769bf016d45c479213990d6a08d938469c4adad8a02ce507b4a4e7b7739f1' },
        mac: 'bac9af994b15a45dd39669fc66f9aa8a3b9dd8c22cb16e4d8d7ea089d0f1a1a9',
      },
      id,
      version: 3,
    };
    const account = await (await storeHolding(id, file, 'foobar')).account(`file:${id}`);
    expect(account.address.toLowerCase()).toBe('0xf466859ead1932d743d622cb74fc058882e8648a');
  });

  it('reads a key written without its leading zero byte', async () => {
    // go-ethereum accounts/keystore/testdata/v3_test_vector.json "31_byte_key", password "foo".
    const id = 'fecfc4ce-e956-48fd-953b-30f8b52ed66c';
    const file = {
      crypto: {
        cipher: 'aes-128-ctr',
        cipherparams: { iv: 'e0c41130a323adc1446fc82f724bca2f' },
        ciphertext: '9517cd5bdbe69076f9bf5057248c6c050141e970efa36ce53692d5d59a3984',
        kdf: 'scrypt',
        kdfparams: { dklen: 32, n: 2, r: 8, p: 1, salt: '711f816911c92d649fb4c84b047915679933555030b3552c1212609b38208c63' },
        mac: 'd5e116151c6aa71470e67a7d42c9620c75c4d23229847dcc127794f0732b0db5',
      },
      id,
      version: 3,
    };
    const account = await (await storeHolding(id, file, 'foo')).account(`file:${id}`);
    expect(account.address).toBe(privateKeyToAccount('0x00fa7b3db73dc7dfdf8c5fbdb796d741e4488628c41fc4febd9160a866ba0f35').address);
  });
});

describe('HdKeyStore', () => {
  const store = new HdKeyStore(DEV_MNEMONIC);

  it('derives anvil dev account 0 for the registrar reference', async () => {
    const account = await store.account(REGISTRAR_KEY_REF);
    expect(account.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect(publicKeyToAddress(await store.publicKey(REGISTRAR_KEY_REF))).toBe(account.address);
    expect(await store.account('hd:0')).toBe(account);
  });

  it('refuses to create keys and reports unknown references', async () => {
    await expect(store.createKey()).rejects.toBeInstanceOf(KeyStoreReadOnlyError);
    await expect(store.account('hd:one')).rejects.toBeInstanceOf(UnknownKeyError);
    await expect(store.account('file:3198bc9c-6672-5ab3-d995-4942343ae5b6')).rejects.toBeInstanceOf(UnknownKeyError);
    expect(store.handles('hd:3')).toBe(true);
    expect(store.handles('file:x')).toBe(false);
  });
});

describe('CompositeKeyStore', () => {
  it('routes references by prefix and creates keys in createWith', async () => {
    const hd = new HdKeyStore(DEV_MNEMONIC);
    const files = fileStore(await tempDir());
    const keys = new CompositeKeyStore([hd, files], { createWith: files });
    const keyRef = await keys.createKey('bob');
    expect(keyRef.startsWith('file:')).toBe(true);
    expect((await keys.account(keyRef)).address).toBe((await files.account(keyRef)).address);
    expect(await keys.publicKey(keyRef)).toBe(await files.publicKey(keyRef));
    expect((await keys.account('hd:0')).address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect(keys.handles('hd:1') && keys.handles(keyRef)).toBe(true);
    expect(keys.prefixes).toEqual(['hd:', 'file:']);
  });

  it('names the supported prefixes for a reference no store serves', async () => {
    const hd = new HdKeyStore(DEV_MNEMONIC);
    const files = fileStore(await tempDir());
    const keys = new CompositeKeyStore([hd, files], { createWith: files });
    expect(keys.handles('vault:participant-7')).toBe(false);
    const error = await keys.account('vault:participant-7').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnknownKeyError);
    expect((error as Error).message).toMatch(/hd:.*file:/);
    await expect(keys.publicKey('vault:participant-7')).rejects.toBeInstanceOf(UnknownKeyError);
  });

  it('creates with the HD store only to refuse, and requires createWith among its stores', async () => {
    const hd = new HdKeyStore(DEV_MNEMONIC);
    await expect(new CompositeKeyStore([hd], { createWith: hd }).createKey()).rejects.toBeInstanceOf(KeyStoreReadOnlyError);
    expect(() => new CompositeKeyStore([hd], { createWith: fileStore(tmpdir()) })).toThrow(RangeError);
  });
});
