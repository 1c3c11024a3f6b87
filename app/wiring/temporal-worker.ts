// Temporal client and worker construction from temporal.yaml.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkerOptions } from '@temporalio/worker';
import { createRequire } from 'node:module';
import proto from '@temporalio/proto';
import type { TemporalConfig } from '../config/temporal.js';
import { createActivities } from '../../activities/index.js';
import type { ActivityDeps } from '../../activities/index.js';
import { PART_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';
import { notDeployed } from '../deploy/readiness.js';

// @temporalio/proto is CommonJS: under plain Node ESM its namespace is the default export.
const { IndexedValueType } = proto.temporal.api.enums.v1;

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
  /** A pre-built workflow bundle (tests build one per run); otherwise workflows/ is bundled now. */
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
  const connection = await NativeConnection.connect(connectionOptions(config));
  const options: WorkerOptions = {
    connection,
    namespace: config.connection.namespace,
    taskQueue: config.taskQueue,
    activities: createActivities(deps),
    maxConcurrentActivityTaskExecutions: config.worker.maxConcurrentActivityTaskExecutions,
    maxConcurrentWorkflowTaskExecutions: config.worker.maxConcurrentWorkflowTaskExecutions,
    maxCachedWorkflows: config.worker.maxCachedWorkflows,
    shutdownGraceTime: config.worker.shutdownGraceTime,
    ...(source.workflowBundlePath
      ? { workflowBundle: { codePath: source.workflowBundlePath } }
      : { workflowsPath: require.resolve('../../workflows/index.ts') }),
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

async function missingPartSearchAttributes(client: Client, namespace: string) {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  return PART_SEARCH_ATTRIBUTES.filter((key) => !(key.name in (customAttributes ?? {})));
}

/**
 * Registers the part workflows' search attributes on a Temporal server that lacks them (`tracewell
 * deploy`; the dev server gets them at start). Temporal Cloud refuses this call: there, add them
 * with `tcld` and this check only reports which are missing.
 */
export async function ensurePartSearchAttributes(client: Client, namespace: string, log: (line: string) => void = () => {}): Promise<void> {
  const missing = await missingPartSearchAttributes(client, namespace);
  if (missing.length === 0) {
    log(`temporal: search attributes current (namespace ${namespace})`);
    return;
  }
  const names = missing.map((key) => key.name).join(', ');
  try {
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]])),
    });
    log(`temporal: registered search attributes ${names} on namespace ${namespace}`);
  } catch (error) {
    throw new Error(`search attributes ${names} are missing on namespace ${namespace} and could not be added: ${(error as Error).message}`);
  }
}

/** The start-up check of worker and API: the search attributes are there; registering them is `tracewell deploy`'s. */
export async function requirePartSearchAttributes(client: Client, namespace: string): Promise<void> {
  const missing = await missingPartSearchAttributes(client, namespace);
  if (missing.length > 0) notDeployed([`temporal: search attributes ${missing.map((key) => key.name).join(', ')} are missing on namespace ${namespace}`]);
}
