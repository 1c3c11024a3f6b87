// The PartRegistry's on-chain rules, exercised on anvil.
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { BaseError, ContractFunctionRevertedError, createWalletClient, http, zeroHash } from 'viem';
import type { Address } from 'viem';
import { partRegistryAbi, partRegistryBytecode } from '../../contracts/generated/PartRegistry.js';
import { connectChain } from '../../ledger/chain.js';
import type { ChainConnection } from '../../ledger/chain.js';
import { HdKeyStore } from '../../ledger/keystore.js';
import { tokenIdOf } from '../../ledger/part-registry.js';
import { DEV_MNEMONIC } from '../../devstack/services.js';
import { uniqueId } from '../support/env.js';

const keys = new HdKeyStore(DEV_MNEMONIC);
const admin = keys.account('hd:0');
const alice = keys.account('hd:1');
const bob = keys.account('hd:2');

let chain: ChainConnection;
let address: Address;

function walletFor(account: typeof admin) {
  return createWalletClient({ account, chain: chain.client.chain, transport: http(chain.rpcUrl) });
}

/** The custom error name a call reverts with. */
async function revertName(call: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await call();
  } catch (error) {
    const reverted = (error as BaseError).walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) return reverted.data?.errorName;
    throw error;
  }
  throw new Error('expected a revert');
}

beforeAll(async () => {
  chain = await connectChain(inject('rpcUrl'));
  const hash = await walletFor(admin).deployContract({ abi: partRegistryAbi, bytecode: partRegistryBytecode, args: [admin.address] });
  address = (await chain.client.waitForTransactionReceipt({ hash })).contractAddress!;
});

describe('PartRegistry', () => {
  it('derives the same token id on chain as off chain', async () => {
    const partId = uniqueId('urn:epc:id:sgtin');
    const onChain = await chain.client.readContract({ address, abi: partRegistryAbi, functionName: 'tokenIdOf', args: [partId] });
    expect(onChain).toBe(tokenIdOf(partId));
  });

  it('mints once per part id, to the given owner, and records the part', async () => {
    const partId = uniqueId();
    const hash = await walletFor(admin).writeContract({ address, abi: partRegistryAbi, functionName: 'register', args: [partId, alice.address, zeroHash] });
    await chain.client.waitForTransactionReceipt({ hash });
    const tokenId = tokenIdOf(partId);
    expect(await chain.client.readContract({ address, abi: partRegistryAbi, functionName: 'ownerOf', args: [tokenId] })).toBe(alice.address);
    const record = await chain.client.readContract({ address, abi: partRegistryAbi, functionName: 'partOf', args: [tokenId] });
    expect(record.partId).toBe(partId);

    const again = () => chain.client.simulateContract({ account: admin, address, abi: partRegistryAbi, functionName: 'register', args: [partId, bob.address, zeroHash] });
    expect(await revertName(again)).toBe('PartAlreadyRegistered');
  });

  it('lets only a registrar mint', async () => {
    const call = () => chain.client.simulateContract({ account: alice, address, abi: partRegistryAbi, functionName: 'register', args: [uniqueId(), alice.address, zeroHash] });
    expect(await revertName(call)).toBe('AccessControlUnauthorizedAccount');
  });

  it('refuses an empty part id', async () => {
    const call = () => chain.client.simulateContract({ account: admin, address, abi: partRegistryAbi, functionName: 'register', args: ['', alice.address, zeroHash] });
    expect(await revertName(call)).toBe('EmptyPartId');
  });

  it('lets only the owner transfer', async () => {
    const partId = uniqueId();
    const tokenId = tokenIdOf(partId);
    await chain.client.waitForTransactionReceipt({
      hash: await walletFor(admin).writeContract({ address, abi: partRegistryAbi, functionName: 'register', args: [partId, alice.address, zeroHash] }),
    });
    const stolen = () => chain.client.simulateContract({ account: bob, address, abi: partRegistryAbi, functionName: 'safeTransferFrom', args: [alice.address, bob.address, tokenId] });
    expect(await revertName(stolen)).toBe('ERC721InsufficientApproval');
    await chain.client.waitForTransactionReceipt({
      hash: await walletFor(alice).writeContract({ address, abi: partRegistryAbi, functionName: 'safeTransferFrom', args: [alice.address, bob.address, tokenId] }),
    });
    expect(await chain.client.readContract({ address, abi: partRegistryAbi, functionName: 'ownerOf', args: [tokenId] })).toBe(bob.address);
  });
});
