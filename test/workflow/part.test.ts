// The lifecycle interpreter on a real Temporal dev server, with real activities on anvil and SQL.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { activityPolicies } from '../../app/config/temporal.js';
import { compileLifecycle } from '../../domain/lifecycles/compile.js';
import { parseLifecycle } from '../../domain/lifecycles/load.js';
import { listOperatorActions } from '../../db/operator-actions.js';
import { findParticipant } from '../../db/participants.js';
import { getPartRecord } from '../../db/parts.js';
import { nameHash, tokenIdOf } from '../../domain/chain/part-registry.js';
import type { CompiledLifecycle } from '../../workflows/definition.js';
import {
  OPERATOR_UPDATE,
  PART_RUN_STATE_QUERY,
  PART_WORKFLOW_TYPE,
  STEP_RUNS_QUERY,
  VARIABLES_QUERY,
  CURRENT_STEP_QUERY,
} from '../../workflows/part-types.js';
import type { PartInput, PartRunState } from '../../workflows/part-types.js';
import { rolesToBind } from '../../workflows/role-bindings.js';
import type { RoleBindings } from '../../workflows/role-bindings.js';
import { participantAddress, uniqueId } from '../support/env.js';
import { saveHistory, useWorkflowEnv } from '../support/workflow-env.js';

const env = useWorkflowEnv();

/** Stores a small document in the vault, signed by `sender` and sealed to the manufacturer. */
async function storeDocument(sender: string, content: string, kind: string) {
  const db = env.core.database.db;
  const [from, to] = await Promise.all([findParticipant(db, sender), findParticipant(db, 'acme-foundry')]);
  return env.core.documents.store({
    sender: from!,
    folder: 'tests',
    name: `${kind}-${randomUUID()}.txt`,
    kind,
    contentType: 'text/plain',
    recipients: [to!],
    content: Readable.from([Buffer.from(content)]),
  });
}

function compile(yaml: string, version = 1): CompiledLifecycle {
  const parsed = parseLifecycle(yaml);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return compileLifecycle(parsed.definition, version);
}

/** The seeded network has two companies per role; these tests bind the first of each, as a start request would. */
const FIRST_OF_EACH_ROLE: RoleBindings = {
  miner: 'sierra-mining',
  manufacturer: 'acme-foundry',
  certifier: 'tuv-assurance',
  distributor: 'northwind-logistics',
  retailer: 'harbor-retail',
};

interface StartOptions {
  partId?: string;
  params?: Record<string, unknown>;
  historyLimit?: number;
  /** Bindings for the roles the lifecycle leaves to the start (default: the first company of each role). */
  roles?: RoleBindings;
}

function start(lifecycle: CompiledLifecycle, options: StartOptions = {}) {
  const partId = options.partId ?? uniqueId('urn:test:chip');
  const roles = options.roles ?? Object.fromEntries(rolesToBind(lifecycle).map((role) => [role, FIRST_OF_EACH_ROLE[role]!]));
  const input: PartInput = {
    partId,
    lifecycle,
    params: options.params ?? {},
    roles,
    policies: activityPolicies(env.temporal),
    historyLimit: options.historyLimit,
  };
  return env.client.workflow.start(PART_WORKFLOW_TYPE, { workflowId: partId, taskQueue: env.temporal.taskQueue, args: [input] });
}

type Handle = Awaited<ReturnType<typeof start>>;
const stateOf = (handle: Handle) => handle.query<PartRunState>(PART_RUN_STATE_QUERY);

async function until(handle: Handle, done: (state: PartRunState) => boolean, timeoutMs = 20_000): Promise<PartRunState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await stateOf(handle);
    if (done(state)) return state;
    if (Date.now() > deadline) throw new Error(`state not reached: ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The update's rejection type and details. */
async function rejection(promise: Promise<unknown>): Promise<{ type?: string; details?: unknown[] }> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
    const cause = (error as WorkflowUpdateFailedError).cause as ApplicationFailure;
    return { type: cause.type ?? undefined, details: cause.details as unknown[] };
  }
  throw new Error('expected the update to be rejected');
}

const SHIPPING = compile(`
name: shipping
params:
  batch: { type: string, required: true }
steps:
  - { id: mint, kind: mint, to: manufacturer, metadata: { batch: "\${params.batch}" } }
  - id: packed
    kind: await
    event: packed
    payload:
      crates: { type: integer, required: true, min: 1 }
      carrier: { type: string }
  - { id: note, kind: record, event: packed, data: { crates: "\${packed.crates}" } }
  - id: sold
    kind: await
    event: sold
    payload:
      buyer: { type: participant, required: true }
  - { id: ship, kind: transfer, to: distributor, participant: "\${sold.buyer}" }
`);

describe('lifecycle interpreter', () => {
  it('acts for the company bound to a role at start; without a binding, a role several hold parks the step', async () => {
    const lifecycle = compile(`
name: two-fabs
steps:
  - { id: mint, kind: mint, to: manufacturer }
`);
    const bound = await start(lifecycle, { roles: { manufacturer: 'delta-fab' } });
    expect(await bound.result()).toMatchObject({ status: 'completed', owner: 'delta-fab' });
    expect((await getPartRecord(env.core.database.db, bound.workflowId))!.part).toMatchObject({
      ownerId: 'delta-fab',
      roles: { manufacturer: 'delta-fab' },
    });

    // What a part started before bindings existed meets (the API now refuses such a start with 422).
    const unbound = await start(lifecycle, { roles: {} });
    const parked = await until(unbound, (s) => s.status === 'parked');
    // Other files may onboard more manufacturers into the shared database: the seeded two are named first.
    expect(parked.steps[0]!.error).toEqual({
      code: 'AmbiguousRole',
      message: expect.stringMatching(
        /^several participants hold the role "manufacturer" \(acme-foundry, delta-fab[,)].*name one with participant:$/,
      ),
    });
    await unbound.executeUpdate(OPERATOR_UPDATE, { args: [{ action: 'abort', reason: 'test done' }] });
  });

  it('runs a definition: mint, await by update, record, await by signal, transfer; queries show steps and variables', async () => {
    const handle = await start(SHIPPING, { params: { batch: 'B-7' } });
    const partId = handle.workflowId;
    await until(handle, (s) => s.status === 'awaiting' && s.currentStep === 'packed');
    expect(await handle.query(CURRENT_STEP_QUERY)).toBe('packed');

    // A bad payload is refused before it is stored; the part does not move.
    const bad = await rejection(handle.executeUpdate('packed', { args: [{ crates: 0, colour: 'red' }] }));
    expect(bad.type).toBe('InvalidPayload');
    expect(bad.details).toEqual([
      [
        { field: 'crates', message: 'must be at least 1' },
        { field: 'colour', message: 'not declared (declared: crates, carrier)' },
      ],
    ]);
    expect((await rejection(handle.executeUpdate('sold', { args: [{ buyer: 'harbor-retail' }] }))).type).toBe('NotAwaiting');
    expect(await stateOf(handle)).toMatchObject({ status: 'awaiting', currentStep: 'packed' });

    expect(await handle.executeUpdate('packed', { args: [{ crates: 12, carrier: 'DHL' }] })).toEqual({
      step: 'packed',
      event: 'packed',
      payload: { crates: 12, carrier: 'DHL' },
    });
    await until(handle, (s) => s.currentStep === 'sold' && s.status === 'awaiting');
    await handle.signal('sold', { buyer: 'northwind-logistics' });
    const result: PartRunState = await handle.result();

    expect(result).toMatchObject({
      status: 'completed',
      owner: 'northwind-logistics',
      tokenId: tokenIdOf(partId).toString(),
      lifecycle: { name: 'shipping', version: 1 },
    });
    expect(result.steps.map((s) => [s.id, s.status, s.runs])).toEqual([
      ['mint', 'succeeded', 1],
      ['packed', 'succeeded', 1],
      ['note', 'succeeded', 1],
      ['sold', 'succeeded', 1],
      ['ship', 'succeeded', 1],
    ]);
    expect(result.variables).toMatchObject({
      params: { batch: 'B-7' },
      packed: { crates: 12, carrier: 'DHL' },
      sold: { buyer: 'northwind-logistics' },
      ship: { owner: 'northwind-logistics' },
    });

    const record = (await getPartRecord(env.core.database.db, partId))!;
    expect(record.part).toMatchObject({
      status: 'completed',
      lifecycle: 'shipping',
      lifecycleVersion: 1,
      params: { batch: 'B-7' },
      ownerId: 'northwind-logistics',
    });
    expect(record.steps.map((s) => [s.stepId, s.status])).toEqual(result.steps.map((s) => [s.id, 'succeeded']));
    expect(record.steps[1]!.output).toEqual({ crates: 12, carrier: 'DHL' });
    const noteHash = result.variables.note as { hash: string };
    expect(await env.core.registry.isRecorded(tokenIdOf(partId), noteHash.hash as `0x${string}`)).toBe(true);
    expect(await env.core.registry.ownerOf(tokenIdOf(partId))).toBe(await participantAddress(env.core, 'northwind-logistics'));
    await saveHistory(env, partId, 'part-v2-await-update-and-signal');
  });

  it('keeps a signal that arrives before its step, drops payloads the step does not accept, and parks a failed step for an operator', async () => {
    const handle = await start(SHIPPING, { params: { batch: 'B-8' } });
    const partId = handle.workflowId;
    await handle.signal('sold', { buyer: 'not a participant id' });
    await handle.signal('sold', { buyer: 'harbor-retail' });
    await until(handle, (s) => s.currentStep === 'packed' && s.status === 'awaiting');
    await handle.signal('packed', { crates: 3 });

    // harbor-retail is a retailer, not a distributor: the contract is never asked, the step parks.
    const parked = await until(handle, (s) => s.status === 'parked');
    expect(parked.ignoredSignals).toBe(1);
    expect(parked.lastIgnoredSignal).toEqual({ event: 'sold', problems: [{ field: 'buyer', message: 'expected a participant id' }] });
    expect(parked.currentStep).toBe('ship');
    expect(parked.steps.at(-1)).toMatchObject({
      id: 'ship',
      status: 'failed',
      error: { code: 'RoleMismatch', message: 'participant "harbor-retail" does not hold the role "distributor" (it holds: retailer)' },
    });
    const mirrored = (await getPartRecord(env.core.database.db, partId))!;
    expect(mirrored.part.status).toBe('parked');
    expect(mirrored.steps.at(-1)).toMatchObject({ stepId: 'ship', status: 'failed', lastErrorCode: 'RoleMismatch', attempts: 1 });

    // Operator decisions are validated; a retry with corrected input finishes the part.
    expect((await rejection(handle.executeUpdate(OPERATOR_UPDATE, { args: [{ action: 'skip' }] }))).type).toBe('InvalidDecision');
    expect((await rejection(handle.executeUpdate(OPERATOR_UPDATE, { args: [{ action: 'retry', step: 'mint' }] }))).type).toBe('WrongStep');
    const edit = await rejection(
      handle.executeUpdate(OPERATOR_UPDATE, { args: [{ action: 'retry', params: { recipient: 'northwind-logistics' } }] }),
    );
    expect(edit).toMatchObject({
      type: 'InvalidStepParams',
      details: [[{ field: 'params.recipient', message: expect.stringContaining('not a parameter of a transfer step') }]],
    });
    await handle.executeUpdate(OPERATOR_UPDATE, {
      args: [{ action: 'retry', step: 'ship', params: { participant: 'northwind-logistics' }, actor: 'ops@test' }],
    });
    const result: PartRunState = await handle.result();
    expect(result).toMatchObject({ status: 'completed', owner: 'northwind-logistics', lastDecision: { step: 'ship', action: 'retry' } });
    expect((await getPartRecord(env.core.database.db, partId))!.part).toMatchObject({
      status: 'completed',
      ownerId: 'northwind-logistics',
    });
    // The decision is audited with the state before and after it, once.
    expect(await listOperatorActions(env.core.database.db, partId)).toEqual([
      expect.objectContaining({
        action: 'retry',
        stepId: 'ship',
        actor: 'ops@test',
        before: {
          partStatus: 'parked',
          step: {
            status: 'failed',
            run: 1,
            error: expect.objectContaining({ code: 'RoleMismatch' }),
            params: { to: 'distributor', participant: 'harbor-retail' },
          },
        },
        after: { partStatus: 'active', step: { status: 'retrying', edits: { participant: 'northwind-logistics' } } },
      }),
    ]);
    await expect(handle.executeUpdate(OPERATOR_UPDATE, { args: [{ action: 'retry' }] })).rejects.toThrow();
    await saveHistory(env, partId, 'part-v2-early-signal-park-edit-retry');
  });

  it('skips or aborts a parked step on an operator decision, and fails a part whose step says onFailure: fail', async () => {
    const lifecycle = compile(`
name: strict
steps:
  - { id: mint, kind: mint, to: manufacturer }
  - { id: check, kind: certify, requires: [quality] }
  - { id: final, kind: certify, requires: [sustainability], onFailure: fail }
`);
    const skipped = await start(lifecycle);
    const parked = await until(skipped, (s) => s.status === 'parked');
    expect(parked.steps[1]).toMatchObject({
      status: 'failed',
      error: { code: 'CertificationFailed', message: `part ${skipped.workflowId} lacks valid certificates: quality: none attached` },
    });
    await skipped.executeUpdate(OPERATOR_UPDATE, { args: [{ action: 'skip', reason: 'certificate checked on paper' }] });
    const failure = await skipped.result().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(((failure as WorkflowFailedError).cause as ApplicationFailure).type).toBe('StepFailed');
    const record = (await getPartRecord(env.core.database.db, skipped.workflowId))!;
    expect(record.part.status).toBe('failed');
    expect(record.steps.map((s) => [s.stepId, s.status, s.lastErrorCode])).toEqual([
      ['mint', 'succeeded', null],
      ['check', 'skipped', 'CertificationFailed'],
      ['final', 'failed', 'CertificationFailed'],
    ]);

    const aborted = await start(lifecycle);
    await until(aborted, (s) => s.status === 'parked');
    await aborted.executeUpdate(OPERATOR_UPDATE, { args: [{ action: 'abort', reason: 'lot scrapped' }] });
    expect(await aborted.result()).toMatchObject({ status: 'aborted', lastDecision: { action: 'abort', reason: 'lot scrapped' } });
    expect((await getPartRecord(env.core.database.db, aborted.workflowId))!.part.status).toBe('aborted');
  });

  it('certifies once a valid certificate is attached, and loops with `when` and `next` until an inspection passes', async () => {
    const lifecycle = compile(`
name: inspected
steps:
  - { id: mint, kind: mint, to: manufacturer }
  - id: inspect
    kind: await
    event: inspected
    payload: { passed: { type: boolean, required: true }, report: { type: hash, required: true } }
  - { id: rework, kind: record, event: rework, when: { var: inspect.passed, equals: false }, next: inspect }
  - { id: attach, kind: attach-certificate, certificate: quality, document: "\${inspect.report}", issuer: certifier, validFor: 30d }
  - { id: certify, kind: certify, requires: [quality] }
`);
    const handle = await start(lifecycle, { historyLimit: 60 });
    const firstRunId = handle.firstExecutionRunId;
    // Each inspection report is a document the certifier signs into the vault; the part carries its hash.
    const reports = await Promise.all(
      [1, 2, 3, 4].map((n) => storeDocument('tuv-assurance', `inspection ${handle.workflowId} ${n}`, 'quality')),
    );
    const report = (n: number) => reports[n - 1]!.hash;
    for (let round = 1; round <= 3; round++) {
      await until(handle, (s) => s.currentStep === 'inspect' && s.status === 'awaiting');
      await handle.executeUpdate('inspected', { args: [{ passed: false, report: report(round) }] });
    }
    await until(handle, (s) => s.currentStep === 'inspect' && s.status === 'awaiting');
    await handle.executeUpdate('inspected', { args: [{ passed: true, report: report(4) }] });
    const result: PartRunState = await handle.result();

    expect(result.status).toBe('completed');
    expect(result.steps.map((s) => [s.id, s.status, s.runs])).toEqual([
      ['mint', 'succeeded', 1],
      ['inspect', 'succeeded', 4],
      ['rework', 'skipped', 3],
      ['attach', 'succeeded', 1],
      ['certify', 'succeeded', 1],
    ]);
    expect(result.variables.certify).toEqual({
      certificates: [
        {
          kind: 'quality',
          documentHash: report(4),
          document: reports[3]!.id,
          issuer: 'tuv-assurance',
          validUntil: expect.stringMatching(/^\d{4}-/),
        },
      ],
    });
    const tokenId = tokenIdOf(handle.workflowId);
    expect((await env.core.registry.certificatesOf(tokenId)).map((c) => [c.kind, c.documentHash])).toEqual([
      [nameHash('quality'), report(4)],
    ]);
    // Three rework records, one per failed inspection, each its own anchored event.
    const reworks = await env.core.chain.client.getContractEvents({
      address: env.core.registry.address,
      abi: (await import('../../contracts/generated/PartRegistry.js')).partRegistryAbi,
      eventName: 'PartEventRecorded',
      args: { tokenId },
      fromBlock: 0n,
    });
    expect(reworks).toHaveLength(3);
    // The history limit made it continue as new, carrying its state over.
    const description = await handle.describe();
    expect(description.runId).not.toBe(firstRunId);
    expect(await env.client.workflow.getHandle(handle.workflowId, firstRunId).describe()).toMatchObject({
      status: { name: 'CONTINUED_AS_NEW' },
    });
  });

  it('answers the step-runs and variables queries', async () => {
    const handle = await start(SHIPPING, { params: { batch: 'B-9' } });
    await until(handle, (s) => s.status === 'awaiting');
    expect(await handle.query(VARIABLES_QUERY)).toMatchObject({ params: { batch: 'B-9' }, mint: { owner: 'acme-foundry' } });
    expect((await handle.query<{ id: string; status: string }[]>(STEP_RUNS_QUERY)).map((s) => s.status)).toEqual([
      'succeeded',
      'running',
      'pending',
      'pending',
      'pending',
    ]);
    await handle.terminate('test done');
  });
});
