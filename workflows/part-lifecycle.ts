// The part lifecycle workflow: runs the steps of the lifecycle it was started with (so a running part
// stays pinned to its definition), one retried activity per step. Deterministic: no I/O here.
import {
  ApplicationFailure,
  condition,
  defineQuery,
  defineUpdate,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { activityOptions, describeFailure } from './activity-options.js';
import { PART_STATE_QUERY, TRANSFER_UPDATE } from './types.js';
import type {
  MintResult,
  PartLifecycleInput,
  PartState,
  StepDefinition,
  StepState,
  TransferRequest,
  TransferResult,
} from './types.js';

export const partStateQuery = defineQuery<PartState>(PART_STATE_QUERY);
export const transferUpdate = defineUpdate<TransferResult, [TransferRequest]>(TRANSFER_UPDATE);

export async function partLifecycle(input: PartLifecycleInput): Promise<PartState> {
  // SQL-only steps are short and local to the worker: local activities spare them a server round trip.
  const sqlSteps = proxyLocalActivities<Activities>(activityOptions(input.policies.default));
  const chainSteps = proxyActivities<Activities>(activityOptions(input.policies.chain));

  const state: PartState = {
    partId: input.partId,
    lifecycle: input.lifecycle.name,
    lifecycleVersion: input.lifecycle.version,
    status: 'running',
    ownerId: input.ownerId,
    steps: input.lifecycle.steps.map((step): StepState => ({ id: step.id, kind: step.kind, status: 'pending' })),
  };
  let transferTo = input.transferTo;
  let transferResult: TransferResult | undefined;

  setHandler(partStateQuery, () => state);
  setHandler(
    transferUpdate,
    async (request: TransferRequest) => {
      // State changes belong here, not in the validator: validators are not re-run on replay.
      transferTo = request.to;
      await condition(() => transferResult !== undefined || state.status === 'failed');
      if (!transferResult) throw ApplicationFailure.nonRetryable(`part ${input.partId} failed before the transfer`, 'PartFailed');
      return transferResult;
    },
    {
      validator: (request: TransferRequest) => {
        if (typeof request?.to !== 'string' || request.to.length === 0) {
          throw ApplicationFailure.nonRetryable('to: a participant id is required', 'InvalidTransfer');
        }
        if (state.status === 'failed') throw ApplicationFailure.nonRetryable(`part ${input.partId} has failed`, 'PartFailed');
        if (transferResult !== undefined) {
          throw ApplicationFailure.nonRetryable(`part ${input.partId} was transferred and takes no more transfers`, 'PartNotActive');
        }
        if (transferTo !== undefined) {
          throw ApplicationFailure.nonRetryable(`part ${input.partId} is already being transferred to ${transferTo}`, 'TransferAlreadyRequested');
        }
        if (request.to === state.ownerId) {
          throw ApplicationFailure.nonRetryable(`${request.to} already owns part ${input.partId}`, 'AlreadyOwner');
        }
      },
    },
  );

  const runStep = async (step: StepDefinition, stepState: StepState): Promise<void> => {
    switch (step.kind) {
      case 'register':
        await sqlSteps.registerPart({
          partId: input.partId,
          ownerId: input.ownerId,
          metadata: input.metadata,
          lifecycle: { name: input.lifecycle.name, version: input.lifecycle.version },
          steps: input.lifecycle.steps,
        });
        return;
      case 'mint': {
        const minted: MintResult = await chainSteps.mintPart({ partId: input.partId, stepId: step.id, ownerId: input.ownerId, metadata: input.metadata });
        state.tokenId = minted.tokenId;
        state.ownerId = minted.ownerId;
        stepState.txHash = minted.txHash ?? undefined;
        return;
      }
      case 'transfer': {
        if (transferTo === undefined) {
          state.status = 'awaiting-transfer';
          await condition(() => transferTo !== undefined);
          state.status = 'running';
        }
        const result = await chainSteps.transferPart({ partId: input.partId, stepId: step.id, toId: transferTo! });
        state.ownerId = result.ownerId;
        stepState.txHash = result.txHash ?? undefined;
        transferResult = result;
        return;
      }
    }
  };

  for (const [index, step] of input.lifecycle.steps.entries()) {
    const stepState = state.steps[index]!;
    state.currentStep = step.id;
    stepState.status = 'running';
    try {
      await runStep(step, stepState);
      stepState.status = 'succeeded';
    } catch (error) {
      stepState.status = 'failed';
      stepState.error = describeFailure(error);
      state.status = 'failed';
      await sqlSteps.recordStepFailure({ partId: input.partId, stepId: step.id, ...stepState.error });
      throw ApplicationFailure.nonRetryable(`step ${step.id} failed: ${stepState.error.message}`, 'StepFailed');
    }
  }
  state.currentStep = undefined;
  state.status = 'completed';
  await sqlSteps.completePart({ partId: input.partId });
  return state;
}
