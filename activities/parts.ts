// Step activities of the part lifecycle. Each one is idempotent: a retry after a crash at any point
// finishes the job without repeating a chain write.
import type { Address, Hex } from 'viem';
import { findParticipant, findParticipantByAddress } from '../db/participants.js';
import type { Participant } from '../db/participants.js';
import { insertPart, recordOwnership, setPartOwner, setPartStatus } from '../db/parts.js';
import { metadataHashOf, tokenIdOf } from '../ledger/part-registry.js';
import { partRegistryAbi } from '../contracts/generated/PartRegistry.js';
import type { MintResult, StepDefinition, TransferResult } from '../workflows/types.js';
import type { ActivityDeps } from './context.js';
import { PartConflictError, UnknownParticipantError } from './errors.js';
import { markStepFailed, recordStepAttempt } from './step-runs.js';

export interface RegisterPartInput {
  partId: string;
  ownerId: string;
  metadata: Record<string, unknown>;
  lifecycle: { name: string; version: number };
  steps: StepDefinition[];
}

export interface MintPartInput {
  partId: string;
  stepId: string;
  ownerId: string;
  metadata: Record<string, unknown>;
}

export interface TransferPartInput {
  partId: string;
  stepId: string;
  toId: string;
}

export function createPartActivities(deps: ActivityDeps) {
  const { db, registry, txSender, keys } = deps;

  async function participant(id: string): Promise<Participant> {
    const found = await findParticipant(db, id);
    if (!found) throw new UnknownParticipantError(id);
    return found;
  }

  async function holderOf(address: Address): Promise<Participant> {
    const found = await findParticipantByAddress(db, address);
    if (!found) throw new PartConflictError(`the token is held by ${address}, which is no known participant`);
    return found;
  }

  return {
    /** Creates the part and its pending step runs in the SQL mirror. */
    async registerPart(input: RegisterPartInput): Promise<void> {
      await participant(input.ownerId);
      await insertPart(db, {
        id: input.partId,
        tokenId: tokenIdOf(input.partId).toString(),
        lifecycle: input.lifecycle.name,
        lifecycleVersion: input.lifecycle.version,
        ownerId: input.ownerId,
        metadata: input.metadata,
        steps: input.steps,
      });
      const registerStep = input.steps.find((step) => step.kind === 'register');
      if (registerStep) await recordStepAttempt(db, input.partId, registerStep.id, async () => ({}));
    },

    /** Mints the part's token to its first owner, signed by the registrar. */
    async mintPart(input: MintPartInput): Promise<MintResult> {
      return recordStepAttempt(db, input.partId, input.stepId, async () => {
        const owner = await participant(input.ownerId);
        const tokenId = tokenIdOf(input.partId);
        const sent = await txSender.send({
          key: `mint:${input.partId}`,
          account: keys.account(deps.registrarKeyRef),
          to: registry.address,
          data: registry.registerCall(input.partId, owner.address as Address, metadataHashOf(input.metadata)),
          abi: partRegistryAbi,
          isDone: () => registry.exists(tokenId),
        });
        // The chain decides who holds the token; a retry may find it already moved on.
        const holder = await holderOf((await registry.ownerOf(tokenId))!);
        const txHash: Hex | null = sent.txHash ?? (await registry.mintTxHash(tokenId));
        if (txHash) await recordOwnership(db, { partId: input.partId, fromId: null, toId: owner.id, txHash, blockNumber: sent.blockNumber });
        return { tokenId: tokenId.toString(), ownerId: holder.id, txHash };
      });
    },

    /** Transfers the part's token from its current holder (who signs) to `toId`. */
    async transferPart(input: TransferPartInput): Promise<TransferResult> {
      return recordStepAttempt(db, input.partId, input.stepId, async () => {
        const to = await participant(input.toId);
        const tokenId = tokenIdOf(input.partId);
        const currentAddress = await registry.ownerOf(tokenId);
        if (!currentAddress) throw new PartConflictError(`part ${input.partId} has no token on chain`);
        const from = await holderOf(currentAddress);
        const sent = await txSender.send({
          key: `transfer:${input.partId}:${input.stepId}`,
          account: keys.account(from.keyRef),
          to: registry.address,
          data: registry.transferCall(from.address as Address, to.address as Address, tokenId),
          abi: partRegistryAbi,
          isDone: async () => (await registry.ownerOf(tokenId)) === to.address,
        });
        if (sent.txHash) {
          await recordOwnership(db, { partId: input.partId, fromId: from.id, toId: to.id, txHash: sent.txHash, blockNumber: sent.blockNumber });
        } else {
          await setPartOwner(db, input.partId, to.id);
        }
        return { ownerId: to.id, txHash: sent.txHash };
      });
    },

    /** Records that a step failed for good, with the error the workflow saw. */
    async recordStepFailure(input: { partId: string; stepId: string; code: string; message: string }): Promise<void> {
      await markStepFailed(db, input.partId, input.stepId, input.code, input.message);
      await setPartStatus(db, input.partId, 'failed');
    },

    async completePart(input: { partId: string }): Promise<void> {
      await setPartStatus(db, input.partId, 'completed');
    },
  };
}
