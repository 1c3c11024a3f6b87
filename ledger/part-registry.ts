// Typed access to the PartRegistry contract.
import { encodeFunctionData, getAddress, hexToBigInt, keccak256, stringToBytes, toHex } from 'viem';
import type { Address, Hex } from 'viem';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import type { ChainClient } from './chain.js';
import { ContractRevertError } from './tx-sender.js';

/** A part's ERC-721 token id: keccak256 of its UTF-8 id (the contract's `tokenIdOf`). */
export function tokenIdOf(partId: string): bigint {
  return hexToBigInt(keccak256(stringToBytes(partId)));
}

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
      const owner = await this.client.readContract({ address: this.address, abi: partRegistryAbi, functionName: 'ownerOf', args: [tokenId] });
      return getAddress(owner);
    } catch (error) {
      if (ContractRevertError.from(error, partRegistryAbi)?.errorName === 'ERC721NonexistentToken') return null;
      throw error;
    }
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

  registerCall(partId: string, owner: Address, metadataHash: Hex): Hex {
    return encodeFunctionData({ abi: partRegistryAbi, functionName: 'register', args: [partId, owner, metadataHash] });
  }

  transferCall(from: Address, to: Address, tokenId: bigint): Hex {
    return encodeFunctionData({ abi: partRegistryAbi, functionName: 'safeTransferFrom', args: [from, to, tokenId] });
  }
}
