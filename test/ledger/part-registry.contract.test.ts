// The PartRegistry's on-chain rules, exercised on anvil.
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { BaseError, ContractFunctionRevertedError, createWalletClient, http, keccak256, toHex, zeroHash } from 'viem';
import type { Address } from 'viem';
import { partRegistryAbi, partRegistryBytecode } from '../../contracts/generated/PartRegistry.js';
import { connectChain } from '../../ledger/chain.js';
import type { ChainConnection } from '../../ledger/chain.js';
import { HdKeyStore } from '../../ledger/keystore.js';
import { PartRegistry, nameHash, tokenIdOf } from '../../ledger/part-registry.js';
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

  describe('certificates, events, bundles and assembly', () => {
    const registry = () => new PartRegistry(chain.client, address);
    async function mint(owner = alice): Promise<bigint> {
      const partId = uniqueId();
      await send(admin, 'register', [partId, owner.address, zeroHash]);
      return tokenIdOf(partId);
    }
    async function send(account: typeof admin, functionName: string, args: unknown[]): Promise<void> {
      const hash = await walletFor(account).writeContract({ address, abi: partRegistryAbi, functionName, args } as never);
      expect((await chain.client.waitForTransactionReceipt({ hash })).status).toBe('success');
    }
    const simulate = (account: typeof admin, functionName: string, args: unknown[]) => () =>
      chain.client.simulateContract({ account, address, abi: partRegistryAbi, functionName, args } as never);

    it('anchors a certificate once per document, for registrars only', async () => {
      const tokenId = await mint();
      const documentHash = keccak256(toHex('quality report 17'));
      await send(admin, 'attachCertificate', [tokenId, nameHash('quality'), documentHash, bob.address, 0n]);
      expect(await registry().hasCertificate(tokenId, documentHash)).toBe(true);
      expect(await registry().certificatesOf(tokenId)).toMatchObject([{ kind: nameHash('quality'), documentHash, issuer: bob.address, validUntil: 0n }]);
      expect(await revertName(simulate(admin, 'attachCertificate', [tokenId, nameHash('quality'), documentHash, bob.address, 0n]))).toBe('CertificateAlreadyAttached');
      expect(await revertName(simulate(alice, 'attachCertificate', [tokenId, nameHash('quality'), zeroHash, bob.address, 0n]))).toBe('AccessControlUnauthorizedAccount');
    });

    it('records an event hash once', async () => {
      const tokenId = await mint();
      const eventHash = keccak256(toHex('manufactured'));
      await send(admin, 'recordEvent', [tokenId, nameHash('manufactured'), eventHash]);
      expect(await registry().isRecorded(tokenId, eventHash)).toBe(true);
      expect(await revertName(simulate(admin, 'recordEvent', [tokenId, nameHash('manufactured'), eventHash]))).toBe('EventAlreadyRecorded');
    });

    it('moves a bundle with its contents, and never a bundled part alone', async () => {
      const pallet = await mint();
      const chip = await mint();
      const tray = await mint();
      const chipOnTray = await mint();
      await send(admin, 'bundle', [tray, chipOnTray]);
      await send(admin, 'bundle', [pallet, chip]);
      await send(admin, 'bundle', [pallet, tray]);
      expect(await registry().contentsOf(pallet)).toEqual([chip, tray]);
      expect(await revertName(simulate(alice, 'safeTransferFrom', [alice.address, bob.address, chip]))).toBe('PartIsBundled');
      expect(await revertName(simulate(admin, 'bundle', [chip, pallet]))).toBe('BundleCycle');
      expect(await revertName(simulate(admin, 'bundle', [pallet, chip]))).toBe('PartIsBundled');

      await send(alice, 'safeTransferFrom', [alice.address, bob.address, pallet]);
      for (const token of [pallet, chip, tray, chipOnTray]) expect(await registry().ownerOf(token)).toBe(bob.address);

      await send(admin, 'unbundle', [chip]);
      expect(await registry().bundleOf(chip)).toBe(0n);
      expect(await registry().contentsOf(pallet)).toEqual([tray]);
      expect(await registry().lastBundleLeft(chip)).toBe(pallet);
      expect(await revertName(simulate(admin, 'unbundle', [chip]))).toBe('PartNotBundled');
      await send(bob, 'safeTransferFrom', [bob.address, alice.address, chip]);
      expect(await registry().ownerOf(chip)).toBe(alice.address);
    });

    it('bundles only parts of the same holder', async () => {
      const pallet = await mint(alice);
      const foreign = await mint(bob);
      expect(await revertName(simulate(admin, 'bundle', [pallet, foreign]))).toBe('HolderMismatch');
    });

    it('consumes components into a product; a consumed part never moves again', async () => {
      const product = await mint();
      const [a, b] = [await mint(), await mint()];
      await send(admin, 'assemble', [product, [a, b]]);
      expect(await registry().assembledInto(a)).toBe(product);
      expect(await chain.client.readContract({ address, abi: partRegistryAbi, functionName: 'componentsOf', args: [product] })).toEqual([a, b]);
      expect(await revertName(simulate(alice, 'safeTransferFrom', [alice.address, bob.address, a]))).toBe('PartIsAssembled');
      expect(await revertName(simulate(admin, 'assemble', [await mint(), [a]]))).toBe('PartIsAssembled');
      expect(await revertName(simulate(admin, 'assemble', [await mint(), []]))).toBe('NoComponents');
      await send(alice, 'safeTransferFrom', [alice.address, bob.address, product]);
      expect(await registry().ownerOf(a)).toBe(alice.address);
    });
  });
});
