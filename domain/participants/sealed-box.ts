// Sealed boxes: a small secret (a document's content key) encrypted to one secp256k1 public key with
// ECIES as eciesjs implements it (ephemeral key, ECDH, HKDF-SHA256, AES-256-GCM). Only the holder of
// the private key opens it. The configuration is pinned here, never taken from eciesjs's mutable
// global, so what the algorithm id names is what was done.
import { decrypt, encrypt } from 'eciesjs';
import { Config } from 'eciesjs/config';
import type { Hex } from 'viem';

/** The algorithm id stored with every sealed box. */
export const SEALED_BOX_ALGORITHM = 'ecies-secp256k1-hkdf-sha256-aes-256-gcm';

const config = new Config();
config.ellipticCurve = 'secp256k1';
config.isEphemeralKeyCompressed = false;
config.isHkdfKeyCompressed = false;
config.symmetricAlgorithm = 'aes-256-gcm';
config.symmetricNonceLength = 16;

/** The box is not for this key, or was altered. */
export class SealedBoxError extends Error {
  override name = 'SealedBoxError';
}

/** Seals `secret` to an uncompressed (0x04…) or compressed secp256k1 public key. */
export function sealTo(publicKey: Hex, secret: Uint8Array): Uint8Array {
  return encrypt(publicKey.slice(2), secret, config);
}

/** Opens a box with the private key it was sealed to; a key store calls this, nobody else. */
export function unsealWithPrivateKey(privateKey: Hex, box: Uint8Array): Uint8Array {
  try {
    return decrypt(privateKey.slice(2), box, config);
  } catch (error) {
    throw new SealedBoxError(`cannot open the sealed box: not sealed to this key, or altered (${(error as Error).message})`);
  }
}
