// The part lifecycle workflow on a real Temporal dev server, with real activities on anvil and SQL.
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { activityPolicies } from '../../app/config/temporal.js';
import { getPartRecord } from '../../db/parts.js';
import { tokenIdOf } from '../../domain/chain/part-registry.js';
import { BASIC_LIFECYCLE, PART_STATE_QUERY, PART_WORKFLOW, TRANSFER_UPDATE } from '../../workflows/types.js';
import type { PartLifecycleInput, PartState, TransferRequest, TransferResult } from '../../workflows/types.js';
import { participantAddress, uniqueId } from '../support/env.js';
import { saveHistory, useWorkflowEnv } from '../support/workflow-env.js';

const env = useWorkflowEnv();

function start(input: Partial<PartLifecycleInput> & { partId: string }) {
  const args: PartLifecycleInput = {
    ownerId: 'acme-foundry',
    metadata: { plant: 'fab-7' },
    lifecycle: BASIC_LIFECYCLE,
    policies: activityPolicies(env.temporal),
    ...input,
  };
  return env.client.workflow.start(PART_WORKFLOW, { workflowId: input.partId, taskQueue: env.temporal.taskQueue, args: [args] });
}

async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The update's rejection type (the validator's ApplicationFailure type). */
async function rejection(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    return ((error as WorkflowUpdateFailedError).cause as ApplicationFailure).type ?? undefined;
  }
  throw new Error('expected the update to be rejected');
}

describe('part lifecycle workflow', () => {
  it('registers, mints and transfers a part, mirroring every step to SQL', async () => {
    const partId = uniqueId('urn:test:wafer');
    const handle = await start({ partId, transferTo: 'northwind-logistics' });
    const result: PartState = await handle.result();

    expect(result).toMatchObject({ status: 'completed', ownerId: 'northwind-logistics', tokenId: tokenIdOf(partId).toString() });
    expect(result.steps.map((s) => [s.id, s.status])).toEqual([
      ['register', 'succeeded'],
      ['mint', 'succeeded'],
      ['transfer', 'succeeded'],
    ]);
    const record = (await getPartRecord(env.core.database.db, partId))!;
    expect(record.part).toMatchObject({ status: 'completed', ownerId: 'northwind-logistics', metadata: { plant: 'fab-7' } });
    expect(record.steps.map((s) => [s.stepId, s.status, s.attempts])).toEqual([
      ['register', 'succeeded', 1],
      ['mint', 'succeeded', 1],
      ['transfer', 'succeeded', 1],
    ]);
    expect(record.steps[2]!.txHash).toBe(result.steps[2]!.txHash);
    expect(await env.core.registry.ownerOf(tokenIdOf(partId))).toBe(await participantAddress(env.core, 'northwind-logistics'));

    await saveHistory(env, partId, 'part-basic-v1-transfer-at-start');
  });

  it('waits for the transfer update, validating it before accepting', async () => {
    const partId = uniqueId('urn:test:chip');
    const handle = await start({ partId });
    const waiting = await until(
      () => handle.query<PartState>(PART_STATE_QUERY),
      (state) => state.status === 'awaiting-transfer',
    );
    expect(waiting).toMatchObject({ currentStep: 'transfer', ownerId: 'acme-foundry' });

    const update = (to: string) => handle.executeUpdate<TransferResult, [TransferRequest]>(TRANSFER_UPDATE, { args: [{ to }] });
    expect(await rejection(update('acme-foundry'))).toBe('AlreadyOwner');
    expect(await rejection(update(''))).toBe('InvalidTransfer');

    const result = await update('harbor-retail');
    expect(result.ownerId).toBe('harbor-retail');
    expect(result.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    await expect(handle.result()).resolves.toMatchObject({ status: 'completed', ownerId: 'harbor-retail' });

    await saveHistory(env, partId, 'part-basic-v1-transfer-by-update');
  });

  it('rejects a second transfer while the first is under way, and any after it is done', async () => {
    const partId = uniqueId('urn:test:chip');
    const handle = await start({ partId });
    await until(() => handle.query<PartState>(PART_STATE_QUERY), (state) => state.status === 'awaiting-transfer');
    const mining = (on: boolean) => env.core.chain.client.request({ method: 'evm_setAutomine' as never, params: [on] as never });
    await mining(false); // the first transfer's transaction waits in the mempool
    let first: Promise<TransferResult>;
    try {
      first = handle.executeUpdate<TransferResult, [TransferRequest]>(TRANSFER_UPDATE, { args: [{ to: 'northwind-logistics' }] });
      await until(() => handle.query<PartState>(PART_STATE_QUERY), (state) => state.status === 'running');
      const second = handle.executeUpdate(TRANSFER_UPDATE, { args: [{ to: 'harbor-retail' }] });
      expect(await rejection(second)).toBe('TransferAlreadyRequested');
    } finally {
      await mining(true);
      await env.core.chain.client.request({ method: 'evm_mine' as never });
    }
    await expect(first).resolves.toMatchObject({ ownerId: 'northwind-logistics' });
    const late = handle.executeUpdate(TRANSFER_UPDATE, { args: [{ to: 'harbor-retail' }] });
    const closed = await late.then(() => 'accepted', (error: unknown) => (error instanceof WorkflowUpdateFailedError ? (error.cause as ApplicationFailure).type : 'closed'));
    expect(['PartNotActive', 'closed']).toContain(closed);
  });

  it('fails the part with the step error when a step cannot succeed', async () => {
    const partId = uniqueId('urn:test:chip');
    const handle = await start({ partId, transferTo: 'no-such-company' });
    const failure = await handle.result().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(((failure as WorkflowFailedError).cause as ApplicationFailure).type).toBe('StepFailed');

    const record = (await getPartRecord(env.core.database.db, partId))!;
    expect(record.part.status).toBe('failed');
    expect(record.steps.find((s) => s.stepId === 'transfer')).toMatchObject({
      status: 'failed',
      attempts: 1, // non-retryable: no pointless retries
      lastErrorCode: 'UnknownParticipantError',
      lastErrorMessage: 'unknown participant "no-such-company"',
    });
    // Nothing already done is undone: the token stays minted with its first owner.
    expect(record.part.ownerId).toBe('acme-foundry');

    await saveHistory(env, partId, 'part-basic-v1-step-failed');
  });
});
