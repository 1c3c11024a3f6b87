// The bare baseline's phase: its own worker (own task queue, the stack's worker settings) in the bench
// process, and parts of bare-workflow.ts started and signalled by a Temporal client directly, at the
// same concurrency as the Tracewell phase. What it measures is what the Temporal server and SDK allow
// on this machine for a workflow of part-basic's shape.
import { createRequire } from 'node:module';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { TemporalConfig } from '../../app/config/temporal.js';
import { activityPolicies } from '../../app/config/temporal.js';
import { activityOptions } from '../../workflows/activity-options.js';
import type { BareActivities, BarePartInput } from './bare-workflow.js';
import { BARE_SIGNAL } from './bare-workflow.js';
import { runParts } from './support.js';
import type { PhaseResult } from './support.js';

const require = createRequire(import.meta.url);

const nothing = async () => undefined;
const bareActivities: BareActivities = {
  startPart: nothing,
  recordStepStatus: nothing,
  completePart: nothing,
  mintStep: async () => ({}),
  transferStep: async () => ({}),
};

/** Runs `parts` bare workflows, `concurrency` at a time, on the server `client` talks to. */
export async function runBarePhase(client: Client, temporal: TemporalConfig, parts: number, concurrency: number): Promise<PhaseResult> {
  const taskQueue = `bench-bare-${Date.now().toString(36)}`;
  const connection = await NativeConnection.connect({ address: temporal.connection.address });
  const worker = await Worker.create({
    connection,
    namespace: temporal.connection.namespace,
    taskQueue,
    activities: bareActivities,
    workflowsPath: require.resolve('./bare-workflow.ts'),
    maxConcurrentActivityTaskExecutions: temporal.worker.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTaskExecutions: temporal.worker.maxConcurrentWorkflowTaskExecutions,
    maxCachedWorkflows: temporal.worker.maxCachedWorkflows,
  });
  const running = worker.run().finally(() => connection.close());
  const policies = activityPolicies(temporal);
  const run = taskQueue;
  try {
    const one = async (index: number): Promise<void> => {
      const input: BarePartInput = {
        partId: `urn:${run}:part:${index}`,
        local: activityOptions(policies.default),
        chain: activityOptions(policies.chain),
      };
      const handle = await client.workflow.start('barePart', { workflowId: input.partId, taskQueue, args: [input] });
      await handle.signal(BARE_SIGNAL, { buyer: 'northwind-logistics' });
      await handle.result();
    };
    await one(-1); // warm-up, as the Tracewell phase has
    return await runParts(parts, concurrency, one);
  } finally {
    worker.shutdown();
    await running;
  }
}
