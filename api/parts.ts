// /parts: start a part's lifecycle, read its state, transfer it.
import { Hono } from 'hono';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { z } from 'zod';
import { findParticipant } from '../db/participants.js';
import type { Participant } from '../db/participants.js';
import { getPartRecord } from '../db/parts.js';
import { tokenIdOf } from '../ledger/part-registry.js';
import { BASIC_LIFECYCLE, PART_STATE_QUERY, PART_WORKFLOW, TRANSFER_UPDATE } from '../workflows/types.js';
import type { PartLifecycleInput, PartState, TransferRequest, TransferResult } from '../workflows/types.js';
import type { ApiDeps } from './deps.js';
import { ApiError, readJson } from './errors.js';

/** GS1-style URNs and plain ids: no slashes or spaces, so the id is safe in a URL path. */
export const PART_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$/;
const partId = z.string().regex(PART_ID_PATTERN, 'letters, digits and : . _ - (at most 200), starting with a letter or digit');
const participantId = z.string().min(1).max(63);

const createPartSchema = z
  .object({
    id: partId,
    owner: participantId,
    transferTo: participantId.optional(),
    metadata: z.record(z.unknown()).default({}),
  })
  .strict();

const transferSchema = z.object({ to: participantId }).strict();

/** Maps the workflow's update rejections to HTTP answers. */
const UPDATE_ERRORS: Record<string, { status: 400 | 409; code: string }> = {
  InvalidTransfer: { status: 400, code: 'invalid_transfer' },
  TransferAlreadyRequested: { status: 409, code: 'transfer_already_requested' },
  AlreadyOwner: { status: 409, code: 'already_owner' },
  PartFailed: { status: 409, code: 'part_failed' },
  PartNotActive: { status: 409, code: 'part_not_active' },
};

export function partRoutes(deps: ApiDeps): Hono {
  const { db, temporal, taskQueue, policies } = deps;
  const app = new Hono();

  async function requireParticipant(id: string, field: string): Promise<Participant> {
    const found = await findParticipant(db, id);
    if (!found) throw new ApiError(422, 'unknown_participant', `${field}: unknown participant "${id}"`, { field, participant: id });
    return found;
  }

  app.post('/', async (c) => {
    const body = await readJson(c, createPartSchema);
    await requireParticipant(body.owner, 'owner');
    if (body.transferTo !== undefined) {
      await requireParticipant(body.transferTo, 'transferTo');
      if (body.transferTo === body.owner) throw new ApiError(422, 'invalid_transfer', 'transferTo: must differ from owner');
    }
    const input: PartLifecycleInput = {
      partId: body.id,
      ownerId: body.owner,
      transferTo: body.transferTo,
      metadata: body.metadata,
      lifecycle: BASIC_LIFECYCLE,
      policies,
    };
    try {
      const handle = await temporal.workflow.start(PART_WORKFLOW, {
        workflowId: body.id,
        taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
      });
      return c.json(
        {
          id: body.id,
          tokenId: tokenIdOf(body.id).toString(),
          lifecycle: { name: BASIC_LIFECYCLE.name, version: BASIC_LIFECYCLE.version },
          workflow: { id: handle.workflowId, runId: handle.firstExecutionRunId },
        },
        201,
        { location: `/parts/${encodeURIComponent(body.id)}` },
      );
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new ApiError(409, 'part_exists', `part "${body.id}" already exists`);
      }
      throw error;
    }
  });

  app.get('/:id', async (c) => {
    const id = c.req.param('id');
    const handle = temporal.workflow.getHandle(id);
    const [record, description] = await Promise.all([
      getPartRecord(db, id),
      handle.describe().catch((error: unknown) => {
        if (error instanceof WorkflowNotFoundError) return undefined;
        throw error;
      }),
    ]);
    if (!record && !description) throw new ApiError(404, 'part_not_found', `part "${id}" not found`);
    const live: PartState | undefined =
      description?.status.name === 'RUNNING' ? await handle.query<PartState>(PART_STATE_QUERY).catch(() => undefined) : undefined;
    const owner = record?.part.ownerId ? await findParticipant(db, record.part.ownerId) : undefined;
    return c.json({
      id,
      tokenId: tokenIdOf(id).toString(),
      status: record?.part.status ?? 'starting',
      lifecycle: record ? { name: record.part.lifecycle, version: record.part.lifecycleVersion } : undefined,
      owner: owner ? { id: owner.id, name: owner.name, address: owner.address } : null,
      metadata: record?.part.metadata ?? {},
      steps: (record?.steps ?? []).map((step) => ({
        id: step.stepId,
        kind: step.kind,
        status: step.status,
        attempts: step.attempts,
        txHash: step.txHash,
        error: step.lastErrorCode ? { code: step.lastErrorCode, message: step.lastErrorMessage } : null,
        startedAt: step.startedAt,
        finishedAt: step.finishedAt,
      })),
      ownership: (record?.ownership ?? []).map((change) => ({
        from: change.fromId,
        to: change.toId,
        txHash: change.txHash,
        blockNumber: change.blockNumber,
        at: change.createdAt,
      })),
      workflow: description
        ? { id: description.workflowId, runId: description.runId, status: description.status.name, state: live?.status, currentStep: live?.currentStep }
        : null,
      createdAt: record?.part.createdAt,
      updatedAt: record?.part.updatedAt,
    });
  });

  app.post('/:id/transfer', async (c) => {
    const id = c.req.param('id');
    const body = await readJson(c, transferSchema);
    await requireParticipant(body.to, 'to');
    const handle = temporal.workflow.getHandle(id);
    try {
      const result = await handle.executeUpdate<TransferResult, [TransferRequest]>(TRANSFER_UPDATE, { args: [{ to: body.to }] });
      return c.json({ id, owner: result.ownerId, txHash: result.txHash });
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
        const mapped = UPDATE_ERRORS[error.cause.type ?? ''];
        if (mapped) throw new ApiError(mapped.status, mapped.code, error.cause.message);
      }
      // Not a rejection by the workflow: is there a part, and is it still taking transfers?
      const description = await handle.describe().catch(() => undefined);
      if (!description) throw new ApiError(404, 'part_not_found', `part "${id}" not found`);
      if (description.status.name !== 'RUNNING') {
        const record = await getPartRecord(db, id);
        throw new ApiError(409, 'part_not_active', `part "${id}" is ${record?.part.status ?? description.status.name.toLowerCase()} and takes no more transfers`);
      }
      throw error;
    }
  });

  return app;
}
