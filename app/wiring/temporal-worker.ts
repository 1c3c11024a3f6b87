// Temporal client and worker construction from temporal.yaml.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { createRequire } from 'node:module';
import type { TemporalConfig } from '../config/temporal.js';
import { createActivities } from '../../activities/index.js';
import type { ActivityDeps } from '../../activities/index.js';
import { stepFailureLogging } from '../../activities/step-failure-log.js';
import { buildWorkflowBundle } from './workflow-bundle.js';

const require = createRequire(import.meta.url);

function connectionOptions(config: TemporalConfig) {
  const { address, tls, apiKey } = config.connection;
  return { address, tls: tls || undefined, apiKey };
}

export async function connectTemporalClient(config: TemporalConfig): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(config));
  return new Client({ connection, namespace: config.connection.namespace });
}

export interface WorkerSource {
  /** A pre-built workflow bundle (tests build one per run); otherwise workflows/ is bundled now, in a child process. */
  workflowBundlePath?: string;
}

export interface RunningWorker {
  worker: Worker;
  /** Settles when the worker has stopped (rejects if it crashed). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Creates and runs a worker serving the part workflows and activities. */
export async function startWorker(config: TemporalConfig, deps: ActivityDeps, source: WorkerSource = {}): Promise<RunningWorker> {
  const codePath = source.workflowBundlePath ?? (await buildWorkflowBundle(require.resolve('../../workflows/index.ts')));
  const connection = await NativeConnection.connect(connectionOptions(config));
  const options: WorkerOptions = {
    connection,
    namespace: config.connection.namespace,
    taskQueue: config.taskQueue,
    activities: createActivities(deps),
    // Expected step failures as one line each; the SDK would warn with a stack trace.
    interceptors: { activity: [stepFailureLogging(Runtime.instance().logger)] },
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTaskExecutions,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    shutdownGraceTime: config.worker.shutdownGraceTime,
    workflowBundle: { codePath },
  };
  let worker: Worker;
  try {
    worker = await Worker.create(options);
  } catch (error) {
    await connection.close();
    throw error;
  }
  const done = worker.run().finally(() => connection.close());
  return {
    worker,
    done,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await done;
    },
  };
}
