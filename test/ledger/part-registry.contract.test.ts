// The PartRegistry's on-chain rules, exercised on anvil. Each participant signs its own
// transactions; the calls are built by the ledger's PartRegistry, so its encoders are checked too.
import { beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import {
  BaseError,
  createWalletClient,
  decodeErrorResult,
  encodeFunctionData,
  http,
  keccak256,
  parseEventLogs,
  toHex,
  zeroHash,
} from 'viem';
import type { Address, Hex, TransactionReceipt } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { partRegistryAbi, partRegistryBytecode } from '../../contracts/generated/PartRegistry.js';
import { connectChain } from '../../domain/chain/connection.js';
import type { ChainConnection } from '../../domain/chain/connection.js';
import { CERTIFIER_ROLE, PartRegistry, REGISTRAR_ROLE, metadataHashOf, nameHash, tokenIdOf } from '../../domain/chain/part-registry.js';
import { DEV_MNEMONIC } from '../../app/devstack/services.js';
import { uniqueId } from '../support/env.js';

// Anvil funds the dev mnemonic's first accounts. 0 deploys and administers this test's own
// contract; 6..9 are this file's participants (other files mostly use 0..2).
const admin = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 0 });
const alice = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 6 }); // registrar
const bob = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 7 }); // registrar
const certifier = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 8 }); // accepted certifier
const outsider = mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 9 }); // no role (until a test grants one)
type Account = typeof admin;

let chain: ChainConnection;
let address: Address;
let registry: PartRegistry;
let grantReceipts: TransactionReceipt[];

function walletFor(account: Account) {
  return createWalletClient({ account, chain: chain.client.chain, transport: http(chain.rpcUrl) });
}

/** The decoded events of a receipt. */
function eventsOf(receipt: TransactionReceipt) {
  return parseEventLogs({ abi: partRegistryAbi, logs: receipt.logs });
}

/** Sends `data` signed by `account` (viem fetches the nonce), waits for it to succeed, returns its events. */
async function send(account: Account, data: Hex) {
  const hash = await walletFor(account).sendTransaction({ to: address, data });
  const receipt = await chain.client.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('success');
  return eventsOf(receipt);
}

/** The custom error the call `data` from `account` reverts with. */
async function revertOf(account: Account, data: Hex): Promise<string | undefined> {
  try {
    await chain.client.call({ account: account.address, to: address, data });
  } catch (error) {
    const raw = (error as BaseError).walk((e) => typeof (e as { data?: unknown }).data === 'string') as { data?: Hex } | null;
    if (raw?.data) return decodeErrorResult({ abi: partRegistryAbi, data: raw.data }).errorName;
    throw error;
  }
  throw new Error('expected a revert');
}

/** Registers a fresh part signed by `owner`; returns its token id. */
async function mint(owner: Account = alice, sources: bigint[] = []): Promise<bigint> {
  const partId = uniqueId();
  const events = await send(owner, registry.registerCall(partId, zeroHash, sources));
  expect(events.map((e) => e.eventName)).toEqual(
    sources.length > 0 ? ['Transfer', 'PartRegistered', 'PartDerived'] : ['Transfer', 'PartRegistered'],
  );
  return tokenIdOf(partId);
}

const transfer = (from: Account, to: Account, tokenId: bigint) => registry.transferCall(from.address, to.address, tokenId);

beforeAll(async () => {
  chain = await connectChain(inject('rpcUrl'));
  const hash = await walletFor(admin).deployContract({ abi: partRegistryAbi, bytecode: partRegistryBytecode, args: [admin.address] });
  address = (await chain.client.waitForTransactionReceipt({ hash })).contractAddress!;
  registry = new PartRegistry(chain.client, address);
  grantReceipts = [];
  for (const [role, account] of [
    [REGISTRAR_ROLE, alice],
    [REGISTRAR_ROLE, bob],
    [CERTIFIER_ROLE, certifier],
  ] as const) {
    const grant = await walletFor(admin).sendTransaction({ to: address, data: registry.grantRoleCall(role, account.address) });
    grantReceipts.push(await chain.client.waitForTransactionReceipt({ hash: grant }));
  }
});

describe('PartRegistry', () => {
  it('derives the same token id and role ids on chain as off chain', async () => {
    const partId = uniqueId('urn:epc:id:sgtin');
    const read = (functionName: 'REGISTRAR_ROLE' | 'CERTIFIER_ROLE') =>
      chain.client.readContract({ address, abi: partRegistryAbi, functionName });
    expect(await chain.client.readContract({ address, abi: partRegistryAbi, functionName: 'tokenIdOf', args: [partId] })).toBe(
      tokenIdOf(partId),
    );
    expect(await read('REGISTRAR_ROLE')).toBe(REGISTRAR_ROLE);
    expect(await read('CERTIFIER_ROLE')).toBe(CERTIFIER_ROLE);
  });

  describe('roles', () => {
    it('gives the admin the admin and registrar roles, and grants emit RoleGranted', async () => {
      expect(await registry.hasRole(zeroHash, admin.address)).toBe(true);
      expect(await registry.hasRole(REGISTRAR_ROLE, admin.address)).toBe(true);
      expect(await registry.hasRole(REGISTRAR_ROLE, alice.address)).toBe(true);
      expect(await registry.isAcceptedCertifier(certifier.address)).toBe(true);
      expect(await registry.isAcceptedCertifier(alice.address)).toBe(false);
      expect(grantReceipts.map((r) => eventsOf(r).map((e) => e.eventName))).toEqual([['RoleGranted'], ['RoleGranted'], ['RoleGranted']]);
      expect(eventsOf(grantReceipts[2]!)[0]!.args).toMatchObject({
        role: CERTIFIER_ROLE,
        account: certifier.address,
        sender: admin.address,
      });
    });

    it('lets only the admin grant roles', async () => {
      expect(await revertOf(alice, registry.grantRoleCall(REGISTRAR_ROLE, outsider.address))).toBe('AccessControlUnauthorizedAccount');
      expect(await revertOf(alice, registry.grantRoleCall(CERTIFIER_ROLE, alice.address))).toBe('AccessControlUnauthorizedAccount');
    });
  });

  describe('register', () => {
    it('mints once per part id, to the registrar that signs', async () => {
      const partId = uniqueId();
      const metadataHash = metadataHashOf({ partId });
      const events = await send(alice, registry.registerCall(partId, metadataHash, []));
      const tokenId = tokenIdOf(partId);
      expect(events.map((e) => e.eventName)).toEqual(['Transfer', 'PartRegistered']);
      expect(events[1]!.args).toEqual({ tokenId, partId, owner: alice.address, metadataHash });
      expect(await registry.ownerOf(tokenId)).toBe(alice.address);
      expect(await registry.partIdOf(tokenId)).toBe(partId);
      expect(await registry.sourcesOf(tokenId)).toEqual([]);

      expect(await revertOf(bob, registry.registerCall(partId, zeroHash, []))).toBe('PartAlreadyRegistered');
    });

    it('lets only a registrar mint', async () => {
      expect(await revertOf(outsider, registry.registerCall(uniqueId(), zeroHash, []))).toBe('AccessControlUnauthorizedAccount');
      expect(await revertOf(certifier, registry.registerCall(uniqueId(), zeroHash, []))).toBe('AccessControlUnauthorizedAccount');
    });

    it('refuses an empty part id', async () => {
      expect(await revertOf(alice, registry.registerCall('', zeroHash, []))).toBe('EmptyPartId');
    });

    it('derives parts from sources the registrar holds, without consuming them', async () => {
      const lot = await mint(alice);
      const wafers = [uniqueId(), uniqueId()];
      for (const wafer of wafers) {
        const events = await send(alice, registry.registerCall(wafer, zeroHash, [lot]));
        expect(events.map((e) => e.eventName)).toEqual(['Transfer', 'PartRegistered', 'PartDerived']);
        expect(events[2]!.args).toEqual({ tokenId: tokenIdOf(wafer), sources: [lot] });
      }
      const chip = await mint(alice, [tokenIdOf(wafers[0]!), tokenIdOf(wafers[1]!)]);
      expect(await registry.sourcesOf(tokenIdOf(wafers[1]!))).toEqual([lot]);
      expect(await registry.sourcesOf(chip)).toEqual([tokenIdOf(wafers[0]!), tokenIdOf(wafers[1]!)]);
      expect(await registry.ownerOf(lot)).toBe(alice.address);
    });

    it('refuses sources the registrar does not hold, or that do not exist', async () => {
      const lot = await mint(alice);
      expect(await revertOf(bob, registry.registerCall(uniqueId(), zeroHash, [lot]))).toBe('NotHolder');
      expect(await revertOf(alice, registry.registerCall(uniqueId(), zeroHash, [tokenIdOf(uniqueId())]))).toBe('ERC721NonexistentToken');
    });
  });

  describe('custody', () => {
    it('lets only the owner transfer', async () => {
      const tokenId = await mint(alice);
      expect(await revertOf(bob, transfer(alice, bob, tokenId))).toBe('ERC721InsufficientApproval');
      expect(await revertOf(admin, transfer(alice, admin, tokenId))).toBe('ERC721InsufficientApproval');
      const events = await send(alice, transfer(alice, bob, tokenId));
      expect(events.map((e) => e.eventName)).toEqual(['Transfer']);
      expect(events[0]!.args).toEqual({ from: alice.address, to: bob.address, tokenId });
      expect(await registry.ownerOf(tokenId)).toBe(bob.address);
    });

    it('disables approvals', async () => {
      const tokenId = await mint(alice);
      const approve = encodeFunctionData({ abi: partRegistryAbi, functionName: 'approve', args: [bob.address, tokenId] });
      const approveAll = encodeFunctionData({ abi: partRegistryAbi, functionName: 'setApprovalForAll', args: [bob.address, true] });
      expect(await revertOf(alice, approve)).toBe('ApprovalsDisabled');
      expect(await revertOf(alice, approveAll)).toBe('ApprovalsDisabled');
    });
  });

  describe('certificates', () => {
    const inAnHour = async () => (await registry.chainTime()) + 3600n;

    it('anchors a certificate from an accepted certifier, once per document', async () => {
      const tokenId = await mint(alice);
      const documentHash = keccak256(toHex(`quality report ${uniqueId()}`));
      const validUntil = await inAnHour();
      const events = await send(certifier, registry.attachCertificateCall(tokenId, 'quality', documentHash, validUntil));
      expect(events.map((e) => e.eventName)).toEqual(['CertificateAttached']);
      expect(events[0]!.args).toEqual({
        tokenId,
        kindHash: nameHash('quality'),
        kind: 'quality',
        documentHash,
        issuer: certifier.address,
        validUntil,
      });
      expect(await registry.hasCertificate(tokenId, documentHash)).toBe(true);
      const [certificate] = await registry.certificatesOf(tokenId);
      expect(certificate).toMatchObject({ kind: nameHash('quality'), documentHash, issuer: certifier.address, validUntil });
      expect(certificate!.attachedAt).toBeGreaterThan(0n);

      expect(await revertOf(certifier, registry.attachCertificateCall(tokenId, 'quality', documentHash, 0n))).toBe(
        'CertificateAlreadyAttached',
      );
      // No expiry is fine.
      await send(certifier, registry.attachCertificateCall(tokenId, 'rohs', keccak256(toHex(`rohs ${uniqueId()}`)), 0n));
      expect(await registry.certificatesOf(tokenId)).toHaveLength(2);
    });

    it('refuses an already expired certificate and an unknown part', async () => {
      const tokenId = await mint(alice);
      const expired = (await registry.chainTime()) - 1n;
      expect(await revertOf(certifier, registry.attachCertificateCall(tokenId, 'quality', keccak256(toHex(uniqueId())), expired))).toBe(
        'CertificateExpired',
      );
      expect(await revertOf(certifier, registry.attachCertificateCall(tokenIdOf(uniqueId()), 'quality', zeroHash, 0n))).toBe(
        'ERC721NonexistentToken',
      );
    });

    it('refuses an unaccepted certifier, accepts it once granted, refuses it again once revoked', async () => {
      const tokenId = await mint(alice);
      const attach = () => registry.attachCertificateCall(tokenId, 'quality', keccak256(toHex(uniqueId())), 0n);
      expect(await revertOf(outsider, attach())).toBe('AccessControlUnauthorizedAccount');
      expect(await revertOf(alice, attach())).toBe('AccessControlUnauthorizedAccount'); // a holder cannot certify its own part

      expect((await send(admin, registry.grantRoleCall(CERTIFIER_ROLE, outsider.address))).map((e) => e.eventName)).toEqual([
        'RoleGranted',
      ]);
      expect(await registry.isAcceptedCertifier(outsider.address)).toBe(true);
      await send(outsider, attach());

      const revoked = await send(admin, registry.revokeRoleCall(CERTIFIER_ROLE, outsider.address));
      expect(revoked.map((e) => e.eventName)).toEqual(['RoleRevoked']);
      expect(revoked[0]!.args).toMatchObject({ role: CERTIFIER_ROLE, account: outsider.address });
      expect(await registry.isAcceptedCertifier(outsider.address)).toBe(false);
      expect(await revertOf(outsider, attach())).toBe('AccessControlUnauthorizedAccount');
      expect(await registry.certificatesOf(tokenId)).toHaveLength(1);
    });
  });

  describe('events', () => {
    it('records an event hash once, signed by the holder only', async () => {
      const tokenId = await mint(alice);
      const eventHash = keccak256(toHex(`manufactured ${uniqueId()}`));
      const record = registry.recordEventCall(tokenId, nameHash('manufactured'), eventHash);
      expect(await revertOf(bob, record)).toBe('NotHolder');
      expect(await revertOf(admin, record)).toBe('NotHolder');
      const events = await send(alice, record);
      expect(events.map((e) => e.eventName)).toEqual(['PartEventRecorded']);
      expect(events[0]!.args).toEqual({ tokenId, eventType: nameHash('manufactured'), eventHash });
      expect(await registry.isRecorded(tokenId, eventHash)).toBe(true);
      expect(await revertOf(alice, record)).toBe('EventAlreadyRecorded');

      // The right to record moves with the part.
      await send(alice, transfer(alice, bob, tokenId));
      const received = registry.recordEventCall(tokenId, nameHash('received'), keccak256(toHex(`received ${uniqueId()}`)));
      expect(await revertOf(alice, received)).toBe('NotHolder');
      await send(bob, received);
    });
  });

  describe('bundles', () => {
    it('moves a bundle with its contents, and never a bundled part alone', async () => {
      const [pallet, chip, tray, chipOnTray] = [await mint(), await mint(), await mint(), await mint()];
      expect(await revertOf(bob, registry.bundleCall(tray, chipOnTray))).toBe('NotHolder');
      const bundled = await send(alice, registry.bundleCall(tray, chipOnTray));
      expect(bundled.map((e) => e.eventName)).toEqual(['Bundled']);
      expect(bundled[0]!.args).toEqual({ bundleId: tray, tokenId: chipOnTray });
      await send(alice, registry.bundleCall(pallet, chip));
      await send(alice, registry.bundleCall(pallet, tray));
      expect(await registry.contentsOf(pallet)).toEqual([chip, tray]);
      expect(await registry.bundleOf(chipOnTray)).toBe(tray);
      expect(await revertOf(alice, transfer(alice, bob, chip))).toBe('PartIsBundled');
      expect(await revertOf(alice, transfer(alice, bob, chipOnTray))).toBe('PartIsBundled');
      expect(await revertOf(alice, registry.bundleCall(chip, pallet))).toBe('BundleCycle');
      expect(await revertOf(alice, registry.bundleCall(chipOnTray, pallet))).toBe('BundleCycle');
      expect(await revertOf(alice, registry.bundleCall(pallet, chip))).toBe('PartIsBundled');

      const moved = await send(alice, transfer(alice, bob, pallet));
      expect(moved.map((e) => e.eventName)).toEqual(['Transfer', 'Transfer', 'Transfer', 'Transfer']);
      expect(moved.map((e) => (e.eventName === 'Transfer' ? e.args.tokenId : undefined)).sort()).toEqual(
        [pallet, chip, tray, chipOnTray].sort(),
      );
      for (const token of [pallet, chip, tray, chipOnTray]) expect(await registry.ownerOf(token)).toBe(bob.address);

      expect(await revertOf(alice, registry.unbundleCall(chip))).toBe('NotHolder');
      const unbundled = await send(bob, registry.unbundleCall(chip));
      expect(unbundled.map((e) => e.eventName)).toEqual(['Unbundled']);
      expect(unbundled[0]!.args).toEqual({ bundleId: pallet, tokenId: chip });
      expect(await registry.bundleOf(chip)).toBe(0n);
      expect(await registry.contentsOf(pallet)).toEqual([tray]);
      expect(await registry.lastBundleLeft(chip)).toBe(pallet);
      expect(await revertOf(bob, registry.unbundleCall(chip))).toBe('PartNotBundled');
      await send(bob, transfer(bob, alice, chip));
      expect(await registry.ownerOf(chip)).toBe(alice.address);
      expect(await registry.ownerOf(pallet)).toBe(bob.address);
    });

    it('bundles only parts of the same holder', async () => {
      const pallet = await mint(alice);
      const foreign = await mint(bob);
      expect(await revertOf(alice, registry.bundleCall(pallet, foreign))).toBe('HolderMismatch');
      expect(await revertOf(bob, registry.bundleCall(pallet, foreign))).toBe('NotHolder');
    });
  });

  describe('assembly', () => {
    it('consumes components into a product; a consumed part never moves again', async () => {
      const product = await mint();
      const [a, b] = [await mint(), await mint()];
      expect(await revertOf(bob, registry.assembleCall(product, [a, b]))).toBe('NotHolder');
      const events = await send(alice, registry.assembleCall(product, [a, b]));
      expect(events.map((e) => e.eventName)).toEqual(['Assembled']);
      expect(events[0]!.args).toEqual({ productId: product, components: [a, b] });
      expect(await registry.assembledInto(a)).toBe(product);
      expect(await registry.componentsOf(product)).toEqual([a, b]);
      expect(await revertOf(alice, transfer(alice, bob, a))).toBe('PartIsAssembled');
      expect(await revertOf(alice, registry.assembleCall(await mint(), [a]))).toBe('PartIsAssembled');
      expect(await revertOf(alice, registry.assembleCall(await mint(), []))).toBe('NoComponents');
      await send(alice, transfer(alice, bob, product));
      expect(await registry.ownerOf(product)).toBe(bob.address);
      expect(await registry.ownerOf(a)).toBe(alice.address);
    });

    it('refuses components of another holder, bundled components and the product itself', async () => {
      const product = await mint(alice);
      const foreign = await mint(bob);
      expect(await revertOf(alice, registry.assembleCall(product, [foreign]))).toBe('HolderMismatch');
      const [pallet, packed] = [await mint(alice), await mint(alice)];
      await send(alice, registry.bundleCall(pallet, packed));
      expect(await revertOf(alice, registry.assembleCall(product, [packed]))).toBe('PartIsBundled');
      expect(await revertOf(alice, registry.assembleCall(product, [product]))).toBe('BundleCycle');
    });
  });

  describe('decommission', () => {
    it('is for the holder of a free part only, and once', async () => {
      const part = await mint(alice);
      expect(await revertOf(bob, registry.decommissionCall(part))).toBe('NotHolder');

      const [pallet, packed] = [await mint(alice), await mint(alice)];
      await send(alice, registry.bundleCall(pallet, packed));
      expect(await revertOf(alice, registry.decommissionCall(packed))).toBe('PartIsBundled');
      expect(await revertOf(alice, registry.decommissionCall(pallet))).toBe('BundleNotEmpty');

      const [product, component] = [await mint(alice), await mint(alice)];
      await send(alice, registry.assembleCall(product, [component]));
      expect(await revertOf(alice, registry.decommissionCall(component))).toBe('PartIsAssembled');

      const events = await send(alice, registry.decommissionCall(part));
      expect(events.map((e) => e.eventName)).toEqual(['Decommissioned']);
      expect(events[0]!.args).toEqual({ tokenId: part, holder: alice.address });
      expect(await registry.isDecommissioned(part)).toBe(true);
      expect(await revertOf(alice, registry.decommissionCall(part))).toBe('PartIsDecommissioned');

      // An emptied bundle can be retired.
      await send(alice, registry.unbundleCall(packed));
      await send(alice, registry.decommissionCall(pallet));
      expect(await registry.isDecommissioned(pallet)).toBe(true);
    });

    it('keeps the token readable, but it never moves, bundles, assembles or feeds a new part again', async () => {
      const lot = await mint(alice);
      const wafer = await mint(alice, [lot]);
      await send(alice, registry.decommissionCall(lot));

      expect(await registry.ownerOf(lot)).toBe(alice.address);
      expect(await registry.exists(lot)).toBe(true);
      expect(await registry.partIdOf(lot)).toMatch(/^urn:test:part:/);
      expect(await registry.sourcesOf(wafer)).toEqual([lot]);

      const [pallet, product] = [await mint(alice), await mint(alice)];
      expect(await revertOf(alice, transfer(alice, bob, lot))).toBe('PartIsDecommissioned');
      expect(await revertOf(alice, registry.bundleCall(pallet, lot))).toBe('PartIsDecommissioned');
      expect(await revertOf(alice, registry.bundleCall(lot, pallet))).toBe('PartIsDecommissioned');
      expect(await revertOf(alice, registry.assembleCall(product, [lot]))).toBe('PartIsDecommissioned');
      expect(await revertOf(alice, registry.assembleCall(lot, [pallet]))).toBe('PartIsDecommissioned');
      expect(await revertOf(alice, registry.registerCall(uniqueId(), zeroHash, [lot]))).toBe('PartIsDecommissioned');
    });
  });

  describe('batch', () => {
    it('runs every item as its signer would alone; a reverting item is skipped and named, the rest go on', async () => {
      const owned = await mint(alice);
      const [fresh, alsoFresh] = [uniqueId(), uniqueId()];
      const calls = [
        registry.registerCall(fresh, zeroHash, []),
        transfer(alice, bob, owned),
        registry.registerCall(fresh, zeroHash, []), // the same part again: PartAlreadyRegistered
        registry.registerCall(alsoFresh, zeroHash, [owned]), // alice no longer holds the source: NotHolder
        registry.recordEventCall(tokenIdOf(fresh), nameHash('inspected'), keccak256(toHex('batch'))),
      ];
      const events = await send(alice, registry.batchCall(calls));
      expect(events.map((e) => e.eventName)).toEqual([
        'Transfer',
        'PartRegistered',
        'Transfer',
        'BatchItemFailed',
        'BatchItemFailed',
        'PartEventRecorded',
      ]);
      const failures = events.filter((e) => e.eventName === 'BatchItemFailed').map((e) => e.args as { index: bigint; reason: Hex });
      expect(failures.map((f) => [f.index, decodeErrorResult({ abi: partRegistryAbi, data: f.reason }).errorName])).toEqual([
        [2n, 'PartAlreadyRegistered'],
        [3n, 'NotHolder'],
      ]);
      // msg.sender is the signer in every item: alice minted, and moved her own token.
      expect(await registry.ownerOf(tokenIdOf(fresh))).toBe(alice.address);
      expect(await registry.ownerOf(owned)).toBe(bob.address);
      expect(await registry.exists(tokenIdOf(alsoFresh))).toBe(false);
    });

    it('keeps role rules: an outsider cannot register through a batch', async () => {
      const events = await send(outsider, registry.batchCall([registry.registerCall(uniqueId(), zeroHash, [])]));
      expect(events.map((e) => e.eventName)).toEqual(['BatchItemFailed']);
      const reason = (events[0]!.args as { reason: Hex }).reason;
      expect(decodeErrorResult({ abi: partRegistryAbi, data: reason }).errorName).toBe('AccessControlUnauthorizedAccount');
    });

    it('costs less gas per part than one transaction per part (figures printed for the record)', async () => {
      const gasOf = async (account: Account, data: Hex) => {
        const hash = await walletFor(account).sendTransaction({ to: address, data });
        const receipt = await chain.client.waitForTransactionReceipt({ hash });
        expect(receipt.status).toBe('success');
        return receipt.gasUsed;
      };
      const ids = (n: number) => Array.from({ length: n }, () => uniqueId());
      const figures: Record<string, number> = {};
      // Naive: one transaction per mint and per transfer (20 of each, the mean).
      const naiveIds = ids(20);
      let naiveMint = 0n;
      for (const id of naiveIds) naiveMint += await gasOf(alice, registry.registerCall(id, zeroHash, []));
      let naiveTransfer = 0n;
      for (const id of naiveIds) naiveTransfer += await gasOf(alice, transfer(alice, bob, tokenIdOf(id)));
      figures['mint naive'] = Number(naiveMint / 20n);
      figures['transfer naive'] = Number(naiveTransfer / 20n);
      for (const n of [20, 100]) {
        const batchIds = ids(n);
        const mintGas = await gasOf(alice, registry.batchCall(batchIds.map((id) => registry.registerCall(id, zeroHash, []))));
        const transferGas = await gasOf(alice, registry.batchCall(batchIds.map((id) => transfer(alice, bob, tokenIdOf(id)))));
        figures[`mint batch of ${n}`] = Number(mintGas / BigInt(n));
        figures[`transfer batch of ${n}`] = Number(transferGas / BigInt(n));
        expect(await registry.ownerOf(tokenIdOf(batchIds.at(-1)!))).toBe(bob.address);
      }
      console.log(`gas per part event: ${JSON.stringify(figures)}`);
      expect(figures['mint batch of 100']).toBeLessThan(figures['mint naive']!);
      expect(figures['transfer batch of 100']).toBeLessThan(figures['transfer naive']!);
    });
  });
});
