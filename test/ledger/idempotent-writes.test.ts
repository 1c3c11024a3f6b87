// Chain writes survive activity retries: whatever point an attempt died at, the retry ends with
// exactly one token and one transaction, never a second mint or a spurious failure. Runs the step
// activities that lifecycle definitions call (mint, transfer, record), as Temporal would retry them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { and, eq } from 'drizzle-orm';
import { keccak256 } from 'viem';
import type { Address, Hex } from 'viem';
import { createActivities } from '../../activities/index.js';
import type { Activities } from '../../activities/index.js';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import { findParticipant } from '../../db/participants.js';
import { chainTxs, ownership, stepRuns } from '../../db/schema.js';
import { metadataHashOf, tokenIdOf } from '../../domain/chain/part-registry.js';
import type { Core } from '../../app/wiring/core.js';
import { openTestCore, uniqueId } from '../support/env.js';

let core: Core;
let activities: Activities;

beforeAll(async () => {
  core = await openTestCore();
  activities = createActivities(core.activityDeps);
});
afterAll(() => core?.close());

/** Runs an activity as Temporal would on the given attempt. */
function attempt<A extends unknown[], R>(n: number, fn: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return new MockActivityEnvironment({ attempt: n }, { logger: new DefaultLogger('ERROR') }).run(fn, ...args);
}

/** A part started as the interpreter starts one: the SQL row and a pending run per step. */
async function registered(): Promise<string> {
  const partId = uniqueId();
  await attempt(1, activities.startPart, {
    partId,
    lifecycle: { name: 'idempotency', version: 1 },
    params: {},
    steps: [
      { id: 'mint', kind: 'mint' },
      { id: 'transfer', kind: 'transfer' },
      { id: 'inspect', kind: 'record' },
    ],
  });
  return partId;
}

const mintInput = (partId: string) => ({
  partId,
  stepId: 'mint',
  run: 1,
  params: { to: 'manufacturer', participant: 'acme-foundry', metadata: {} },
});
const transferInput = (
  partId: string,
  params: { to: string; participant?: string } = { to: 'distributor', participant: 'northwind-logistics' },
) => ({
  partId,
  stepId: 'transfer',
  run: 1,
  params,
});

/** A seeded participant's ledger account, from its key in the key store. */
async function accountOf(participantId: string) {
  return core.keys.account((await findParticipant(core.database.db, participantId))!.keyRef);
}
/** The first holder signs the mint. */
const minter = () => accountOf('acme-foundry');

async function mintEvents(partId: string) {
  return core.chain.client.getContractEvents({
    address: core.registry.address,
    abi: partRegistryAbi,
    eventName: 'PartRegistered',
    args: { tokenId: tokenIdOf(partId) },
    fromBlock: 0n,
  });
}

async function nonceOf(address: Address): Promise<number> {
  return core.chain.client.getTransactionCount({ address, blockTag: 'pending' });
}

/** Signs the mint transaction and stores it under the activity's key, as an attempt that died would. */
async function signAndStoreMint(partId: string, nonce?: number, gas?: bigint): Promise<Hex> {
  const account = await minter();
  const request = await core.chain.client.prepareTransactionRequest({
    account,
    to: core.registry.address,
    data: core.registry.registerCall(partId, metadataHashOf({}), []),
    nonce: nonce ?? (await nonceOf(account.address)),
    chain: core.chain.client.chain,
    ...(gas ? { gas } : {}),
  });
  const rawTx = await account.signTransaction(request as never);
  const txHash = keccak256(rawTx);
  await core.database.db.insert(chainTxs).values({
    key: `mint:${partId}`,
    chainId: core.chain.chainId,
    fromAddress: account.address,
    nonce: request.nonce!,
    txHash,
    rawTx,
    status: 'signed',
  });
  return rawTx;
}

/** A retried mint that must not reuse `staleRawTx`: one new transaction, one token, remembered. */
async function expectReplaced(partId: string, staleRawTx: Hex): Promise<void> {
  const result = await attempt(2, activities.mintStep, mintInput(partId));
  expect(result.txHash).not.toBe(keccak256(staleRawTx));
  expect(await mintEvents(partId)).toHaveLength(1);
  const [row] = await core.database.db
    .select()
    .from(chainTxs)
    .where(eq(chainTxs.key, `mint:${partId}`));
  expect(row).toMatchObject({ status: 'mined', txHash: result.txHash });
}

async function rpc(method: string, params: unknown[] = []): Promise<void> {
  await core.chain.client.request({ method: method as never, params: params as never });
}

describe('mint activity', () => {
  it('run twice for one part finds one token and sends one transaction', async () => {
    const partId = await registered();
    const before = await nonceOf((await minter()).address);
    const first = await attempt(1, activities.mintStep, mintInput(partId));
    const second = await attempt(2, activities.mintStep, mintInput(partId));

    expect(second).toEqual(first);
    expect(first.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await mintEvents(partId)).toHaveLength(1);
    expect(await nonceOf((await minter()).address)).toBe(before + 1);
    expect(await core.registry.ownerOf(tokenIdOf(partId))).toBe((await minter()).address);

    const db = core.database.db;
    expect(await db.select().from(ownership).where(eq(ownership.partId, partId))).toHaveLength(1);
    const [step] = await db
      .select()
      .from(stepRuns)
      .where(and(eq(stepRuns.partId, partId), eq(stepRuns.stepId, 'mint')));
    expect(step).toMatchObject({ status: 'succeeded', attempts: 2, txHash: first.txHash });
  });

  it('re-broadcasts a transaction that was signed and stored but never sent', async () => {
    const partId = await registered();
    const rawTx = await signAndStoreMint(partId);
    const result = await attempt(2, activities.mintStep, mintInput(partId));
    expect(result.txHash).toBe(keccak256(rawTx));
    expect(await mintEvents(partId)).toHaveLength(1);
  });

  it('waits for a transaction that was sent but not yet mined when the attempt died', async () => {
    const partId = await registered();
    await rpc('evm_setAutomine', [false]);
    try {
      const rawTx = await signAndStoreMint(partId);
      await core.chain.client.sendRawTransaction({ serializedTransaction: rawTx });
      const retry = attempt(2, activities.mintStep, mintInput(partId));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(await mintEvents(partId)).toHaveLength(0); // still pending: the retry is waiting, not re-sending
      await rpc('evm_mine');
      const result = await retry;
      expect(result.txHash).toBe(keccak256(rawTx));
    } finally {
      await rpc('evm_setAutomine', [true]);
    }
    expect(await mintEvents(partId)).toHaveLength(1);
  });

  it('signs afresh when the stored transaction lost its nonce to another transaction', async () => {
    const partId = await registered();
    const account = await minter();
    const nonce = await nonceOf(account.address);
    const stale = await signAndStoreMint(partId, nonce);
    // Another write takes that nonce first (e.g. sent by a different step after the crash).
    const other = await account.signTransaction(
      (await core.chain.client.prepareTransactionRequest({
        account,
        to: account.address,
        value: 0n,
        nonce,
        chain: core.chain.client.chain,
      })) as never,
    );
    await core.chain.client.waitForTransactionReceipt({
      hash: await core.chain.client.sendRawTransaction({ serializedTransaction: other }),
    });

    await expectReplaced(partId, stale);
  });

  it('replaces a stored transaction that reverted (here: out of gas) with a new one', async () => {
    const partId = await registered();
    const starved = await signAndStoreMint(partId, undefined, 60_000n);
    await core.chain.client.sendRawTransaction({ serializedTransaction: starved });
    const failed = await core.chain.client.waitForTransactionReceipt({ hash: keccak256(starved) });
    expect(failed.status).toBe('reverted');

    await expectReplaced(partId, starved);
  });

  it('fails a call that would revert before sending anything, naming the contract error', async () => {
    const intruder = await core.keys.account('hd:9'); // funded by anvil, but no participant: may not register
    const before = await nonceOf(intruder.address);
    const sent = core.txSender.send({
      key: `test:${uniqueId()}`,
      account: intruder,
      to: core.registry.address,
      data: core.registry.registerCall(uniqueId(), metadataHashOf({}), []),
      abi: partRegistryAbi,
      isDone: async () => false,
    });
    await expect(sent).rejects.toMatchObject({ name: 'ContractRevertError', errorName: 'AccessControlUnauthorizedAccount' });
    expect(await nonceOf(intruder.address)).toBe(before);
  });
});

describe('transfer activity', () => {
  it('run twice moves the token once, signed by the owner', async () => {
    const partId = await registered();
    await attempt(1, activities.mintStep, mintInput(partId));
    const owner = await minter();
    const ownerNonce = await nonceOf(owner.address);
    const input = transferInput(partId);
    const first = await attempt(1, activities.transferStep, input);
    const second = await attempt(2, activities.transferStep, input);

    expect(second).toEqual(first);
    expect(first).toMatchObject({ part: partId, owner: 'northwind-logistics' });
    expect(await core.registry.ownerOf(tokenIdOf(partId))).toBe((await accountOf('northwind-logistics')).address);
    expect(await nonceOf(owner.address)).toBe(ownerNonce + 1);
    const history = await core.database.db.select().from(ownership).where(eq(ownership.partId, partId));
    expect(history.map((row) => [row.fromId, row.toId])).toEqual([
      [null, 'acme-foundry'],
      ['acme-foundry', 'northwind-logistics'],
    ]);
  });

  it('fails for good on an unknown participant', async () => {
    const partId = await registered();
    await attempt(1, activities.mintStep, mintInput(partId));
    await expect(
      attempt(1, activities.transferStep, transferInput(partId, { to: 'distributor', participant: 'nobody' })),
    ).rejects.toMatchObject({
      name: 'UnknownParticipantError',
    });
  });
});

describe('record activity', () => {
  const recordInput = (partId: string, run: number) => ({
    partId,
    stepId: 'inspect',
    run,
    params: { event: 'inspected', data: { passed: true } },
  });

  it("run twice anchors one event with one transaction; a loop's next run is a write of its own", async () => {
    const partId = await registered();
    await attempt(1, activities.mintStep, mintInput(partId));
    const holder = await minter();
    const nonce = await nonceOf(holder.address);

    const first = await attempt(1, activities.recordStep, recordInput(partId, 1));
    const retried = await attempt(2, activities.recordStep, recordInput(partId, 1));
    expect(retried).toEqual(first);
    expect(await nonceOf(holder.address)).toBe(nonce + 1);

    const again = await attempt(1, activities.recordStep, recordInput(partId, 2));
    expect(again.hash).not.toBe(first.hash);
    expect(await nonceOf(holder.address)).toBe(nonce + 2);
    const keys = (await core.database.db.select().from(chainTxs).where(eq(chainTxs.fromAddress, holder.address))).map((row) => row.key);
    expect(keys).toEqual(expect.arrayContaining([`record:${partId}:inspect`, `record:${partId}:inspect:2`]));
  });
});

describe("an operator's edited retry", () => {
  it('is a new write under its own key, and retrying it sends nothing more', async () => {
    const partId = await registered();
    await attempt(1, activities.mintStep, mintInput(partId));
    const owner = await minter();
    const nonce = await nonceOf(owner.address);
    const edited = { ...transferInput(partId, { to: 'retailer', participant: 'harbor-retail' }), revision: 1 };

    const first = await attempt(1, activities.transferStep, edited);
    const second = await attempt(2, activities.transferStep, edited);
    expect(second).toEqual(first);
    expect(first.owner).toBe('harbor-retail');
    expect(await nonceOf(owner.address)).toBe(nonce + 1);
    const [row] = await core.database.db
      .select()
      .from(chainTxs)
      .where(eq(chainTxs.key, `transfer:${partId}:transfer:edit1`));
    expect(row).toMatchObject({ status: 'mined', txHash: first.txHash });
  });
});
