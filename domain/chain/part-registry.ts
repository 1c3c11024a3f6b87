// Typed access to the PartRegistry contract.
import { encodeFunctionData, getAddress, hexToBigInt, keccak256, stringToBytes, toHex } from 'viem';
import type { Address, Hex } from 'viem';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import type { ChainClient } from './connection.js';
import { ContractRevertError } from './tx-sender.js';

/** A part's ERC-721 token id: keccak256 of its UTF-8 id (the contract's `tokenIdOf`). */
export function tokenIdOf(partId: string): bigint {
  return hexToBigInt(keccak256(stringToBytes(partId)));
}

/** The role that may register parts (the contract's REGISTRAR_ROLE). */
export const REGISTRAR_ROLE: Hex = keccak256(stringToBytes('REGISTRAR_ROLE'));

/** The role of accepted certifiers (the contract's CERTIFIER_ROLE). */
export const CERTIFIER_ROLE: Hex = keccak256(stringToBytes('CERTIFIER_ROLE'));

/** JSON with object keys sorted at every level, so equal data always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A short name (certificate kind, event type) as the bytes32 the contract stores: keccak256 of it. */
export function nameHash(name: string): Hex {
  return keccak256(stringToBytes(name));
}

/** The hash anchored with a part's token: keccak256 of its canonical metadata JSON. */
export function metadataHashOf(metadata: Record<string, unknown>): Hex {
  return keccak256(toHex(canonicalJson(metadata)));
}

export class PartRegistry {
  constructor(
    readonly client: ChainClient,
    readonly address: Address,
  ) {}

  async exists(tokenId: bigint): Promise<boolean> {
    return this.client.readContract({ address: this.address, abi: partRegistryAbi, functionName: 'exists', args: [tokenId] });
  }

  /** The current owner, or null when the token does not exist (one call: ownerOf reverts then). */
  async ownerOf(tokenId: bigint): Promise<Address | null> {
    try {
      const owner = await this.client.readContract({
        address: this.address,
        abi: partRegistryAbi,
        functionName: 'ownerOf',
        args: [tokenId],
      });
      return getAddress(owner);
    } catch (error) {
      if (ContractRevertError.from(error, partRegistryAbi)?.errorName === 'ERC721NonexistentToken') return null;
      throw error;
    }
  }

  /** The bundle `tokenId` was last taken out of, from its Unbundled events; null if never. */
  async lastBundleLeft(tokenId: bigint): Promise<bigint | null> {
    const logs = await this.client.getContractEvents({
      address: this.address,
      abi: partRegistryAbi,
      eventName: 'Unbundled',
      args: { tokenId },
      fromBlock: 0n,
    });
    return logs.at(-1)?.args.bundleId ?? null;
  }

  /** The part id a token was registered with. */
  async partIdOf(tokenId: bigint): Promise<string> {
    const part = await this.client.readContract({ address: this.address, abi: partRegistryAbi, functionName: 'partOf', args: [tokenId] });
    return part.partId;
  }

  /** The transaction that minted `tokenId`, found from its PartRegistered event. */
  async mintTxHash(tokenId: bigint): Promise<Hex | null> {
    const logs = await this.client.getContractEvents({
      address: this.address,
      abi: partRegistryAbi,
      eventName: 'PartRegistered',
      args: { tokenId },
      fromBlock: 0n,
    });
    return logs[0]?.transactionHash ?? null;
  }

  async certificatesOf(tokenId: bigint) {
    return this.client.readContract({ address: this.address, abi: partRegistryAbi, functionName: 'certificatesOf', args: [tokenId] });
  }

  async hasCertificate(tokenId: bigint, documentHash: Hex): Promise<boolean> {
    return this.client.readContract({
      address: this.address,
      abi: partRegistryAbi,
      functionName: 'hasCertificate',
      args: [tokenId, documentHash],
    });
  }

  async isRecorded(tokenId: bigint, eventHash: Hex): Promise<boolean> {
    return this.client.readContract({
      address: this.address,
      abi: partRegistryAbi,
      functionName: 'isRecorded',
      args: [tokenId, eventHash],
    });
  }

  /** The bundle holding `tokenId`, or 0n. */
  async bundleOf(tokenId: bigint): Promise<bigint> {
    return this.client.readContract({ address: this.address, abi: partRegistryAbi, functionName: 'bundleOf', args: [tokenId] });
  }

  async contentsOf(bundleId: bigint): Promise<readonly bigint[]> {
    return this.client.readContract({ address: this.address, abi: partRegistryAbi, functionName: 'contentsOf', args: [bundleId] });
  }

  /** The product `tokenId` was consumed into, or 0n. */
  async assembledInto(tokenId: bigint): Promise<bigint> {
    return this.client.readContract({ address: this.address, abi: partRegistryAbi, functionName: 'assembledInto', args: [tokenId] });
  }

  /** The parts `tokenId` was made from (empty for a raw part). */
  async sourcesOf(tokenId: bigint): Promise<readonly bigint[]> {
    return this.client.readContract({ address: this.address, abi: partRegistryAbi, functionName: 'sourcesOf', args: [tokenId] });
  }

  async componentsOf(productId: bigint): Promise<readonly bigint[]> {
    return this.client.readContract({ address: this.address, abi: partRegistryAbi, functionName: 'componentsOf', args: [productId] });
  }

  /** True once the part is retired: its token stays, but never moves again. */
  async isDecommissioned(tokenId: bigint): Promise<boolean> {
    return this.client.readContract({ address: this.address, abi: partRegistryAbi, functionName: 'isDecommissioned', args: [tokenId] });
  }

  /** True when `account` currently holds the CERTIFIER_ROLE. */
  async isAcceptedCertifier(account: Address): Promise<boolean> {
    return this.client.readContract({ address: this.address, abi: partRegistryAbi, functionName: 'isAcceptedCertifier', args: [account] });
  }

  async hasRole(role: Hex, account: Address): Promise<boolean> {
    return this.client.readContract({ address: this.address, abi: partRegistryAbi, functionName: 'hasRole', args: [role, account] });
  }

  /** The current block's timestamp, in seconds (certificate validity is judged by chain time). */
  async chainTime(): Promise<bigint> {
    return (await this.client.getBlock()).timestamp;
  }

  /** Mints `partId` to the signer (who must hold REGISTRAR_ROLE), made from its own `sources`. */
  registerCall(partId: string, metadataHash: Hex, sources: bigint[]): Hex {
    return encodeFunctionData({ abi: partRegistryAbi, functionName: 'register', args: [partId, metadataHash, sources] });
  }

  /** Runs `calls` (this contract's own calls) in one transaction; a reverting item is skipped, named by BatchItemFailed. */
  batchCall(calls: readonly Hex[]): Hex {
    return encodeFunctionData({ abi: partRegistryAbi, functionName: 'batch', args: [calls] });
  }

  /** Moves `tokenId` (and, for a bundle, its contents); only the current owner may sign it. */
  transferCall(from: Address, to: Address, tokenId: bigint): Hex {
    return encodeFunctionData({ abi: partRegistryAbi, functionName: 'safeTransferFrom', args: [from, to, tokenId] });
  }

  /** Signed by the issuing certifier (CERTIFIER_ROLE). `validUntil` in seconds, 0n = no expiry. */
  attachCertificateCall(tokenId: bigint, kind: string, documentHash: Hex, validUntil: bigint): Hex {
    return encodeFunctionData({ abi: partRegistryAbi, functionName: 'attachCertificate', args: [tokenId, kind, documentHash, validUntil] });
  }

  /** Signed by the part's holder. */
  recordEventCall(tokenId: bigint, eventType: Hex, eventHash: Hex): Hex {
    return encodeFunctionData({ abi: partRegistryAbi, functionName: 'recordEvent', args: [tokenId, eventType, eventHash] });
  }

  /** Signed by the holder of the bundle and the part. */
  bundleCall(bundleId: bigint, tokenId: bigint): Hex {
    return encodeFunctionData({ abi: partRegistryAbi, functionName: 'bundle', args: [bundleId, tokenId] });
  }

  /** Signed by the bundle's holder. */
  unbundleCall(tokenId: bigint): Hex {
    return encodeFunctionData({ abi: partRegistryAbi, functionName: 'unbundle', args: [tokenId] });
  }

  /** Signed by the holder of the product and its components. */
  assembleCall(productId: bigint, components: bigint[]): Hex {
    return encodeFunctionData({ abi: partRegistryAbi, functionName: 'assemble', args: [productId, components] });
  }

  /** Signed by the part's holder; the part must be unbundled (and, if a bundle, empty). */
  decommissionCall(tokenId: bigint): Hex {
    return encodeFunctionData({ abi: partRegistryAbi, functionName: 'decommission', args: [tokenId] });
  }

  /** Signed by the admin: e.g. REGISTRAR_ROLE for a new participant, CERTIFIER_ROLE for a certifier. */
  grantRoleCall(role: Hex, account: Address): Hex {
    return encodeFunctionData({ abi: partRegistryAbi, functionName: 'grantRole', args: [role, account] });
  }

  /** Signed by the admin. */
  revokeRoleCall(role: Hex, account: Address): Hex {
    return encodeFunctionData({ abi: partRegistryAbi, functionName: 'revokeRole', args: [role, account] });
  }
}
