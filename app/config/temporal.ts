// Loads temporal.yaml, applies environment overrides, and validates the result. An invalid file or
// setting stops start-up with a ConfigError that names the setting to fix.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { durationSchema } from '../../domain/lifecycles/duration-schema.js';
import { ConfigError } from './config-error.js';
import type { ActivityPolicies, ActivityPolicy as WorkflowActivityPolicy } from '../../workflows/types.js';

const retrySchema = z
  .object({
    initialInterval: durationSchema,
    backoffCoefficient: z.number().min(1),
    maximumInterval: durationSchema,
    maximumAttempts: z.number().int().min(0),
    nonRetryableErrorTypes: z.array(z.string()).default([]),
  })
  .strict();

const activityPolicySchema = z.object({ startToCloseTimeout: durationSchema, retry: retrySchema }).strict();

const temporalConfigSchema = z
  .object({
    connection: z
      .object({
        address: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port'),
        namespace: z.string().min(1),
        tls: z.boolean().default(false),
        apiKey: z.string().min(1).optional(),
      })
      .strict(),
    taskQueue: z.string().min(1),
    worker: z
      .object({
        maxConcurrentActivityTaskExecutions: z.number().int().positive(),
        maxConcurrentWorkflowTaskExecutions: z.number().int().min(2),
        maxCachedWorkflows: z.number().int().min(0),
        shutdownGraceTime: durationSchema,
      })
      .strict(),
    activities: z.object({ default: activityPolicySchema, chain: activityPolicySchema }).strict(),
    // The ledger transaction manager (domain/chain/transaction-manager.ts): batching and confirmations.
    ledger: z
      .object({
        // 1 = one transaction per write (the naive mode); a batch must fit in a block (about 86k gas per mint).
        batchMaxItems: z.number().int().min(1).max(200).default(100),
        batchWaitMs: z.number().int().min(0).max(10_000).default(50),
        confirmations: z.number().int().min(0).max(1000).default(0),
        stuckAfterMs: z.number().int().min(1000).default(60_000),
      })
      .strict()
      .default({ batchMaxItems: 100, batchWaitMs: 50, confirmations: 0, stuckAfterMs: 60_000 }),
    devServer: z
      // Port 0 picks a free port.
      .object({ ip: z.string().min(1), port: z.number().int().min(0).max(65535), uiPort: z.number().int().min(0).max(65535) })
      .strict(),
  })
  .strict();

export type TemporalConfig = z.infer<typeof temporalConfigSchema>;
export type ActivityPolicy = z.infer<typeof activityPolicySchema>;
export type LedgerConfig = TemporalConfig['ledger'];

/** Environment variable → setting path. Values are parsed as YAML scalars (numbers, booleans). */
export const TEMPORAL_ENV: Record<string, string> = {
  TEMPORAL_ADDRESS: 'connection.address',
  TEMPORAL_NAMESPACE: 'connection.namespace',
  TEMPORAL_TLS: 'connection.tls',
  TEMPORAL_API_KEY: 'connection.apiKey',
  TEMPORAL_TASK_QUEUE: 'taskQueue',
  TEMPORAL_MAX_CONCURRENT_ACTIVITIES: 'worker.maxConcurrentActivityTaskExecutions',
  TEMPORAL_MAX_CONCURRENT_WORKFLOW_TASKS: 'worker.maxConcurrentWorkflowTaskExecutions',
  TEMPORAL_MAX_CACHED_WORKFLOWS: 'worker.maxCachedWorkflows',
  LEDGER_BATCH_MAX_ITEMS: 'ledger.batchMaxItems',
  LEDGER_BATCH_WAIT_MS: 'ledger.batchWaitMs',
  LEDGER_CONFIRMATIONS: 'ledger.confirmations',
  LEDGER_STUCK_AFTER_MS: 'ledger.stuckAfterMs',
  TEMPORAL_DEV_PORT: 'devServer.port',
  TEMPORAL_DEV_UI_PORT: 'devServer.uiPort',
};

const STRING_SETTINGS = new Set(['connection.address', 'connection.namespace', 'connection.apiKey', 'taskQueue']);

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

/** Validates a parsed document (plus env overrides); `source` names the file in error messages. */
export function parseTemporalConfig(document: unknown, env: NodeJS.ProcessEnv = process.env, source = 'temporal.yaml'): TemporalConfig {
  const merged = structuredClone((document ?? {}) as Record<string, unknown>);
  if (typeof merged !== 'object' || Array.isArray(merged)) {
    throw new ConfigError(`${source}: expected a mapping at the top level`);
  }
  for (const [name, path] of Object.entries(TEMPORAL_ENV)) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    setPath(merged, path, STRING_SETTINGS.has(path) ? raw : parseYaml(raw));
  }
  const result = temporalConfigSchema.safeParse(merged);
  if (!result.success) {
    const envNames = Object.fromEntries(Object.entries(TEMPORAL_ENV).map(([name, path]) => [path, name]));
    throw ConfigError.fromZod(source, result.error, envNames);
  }
  return result.data;
}

/** Reads and validates the YAML file at `path`. */
export function loadTemporalConfig(path: string, env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message} (set TRACEWELL_TEMPORAL_CONFIG to its path)`);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${path}: not valid YAML: ${(error as Error).message}`);
  }
  return parseTemporalConfig(document, env, path);
}

/** The activity policies a part workflow is started with (pinned in its input, in milliseconds). */
export function activityPolicies(config: TemporalConfig): ActivityPolicies {
  const toPolicy = (policy: ActivityPolicy): WorkflowActivityPolicy => ({
    startToCloseTimeoutMs: policy.startToCloseTimeout,
    retry: {
      initialIntervalMs: policy.retry.initialInterval,
      backoffCoefficient: policy.retry.backoffCoefficient,
      maximumIntervalMs: policy.retry.maximumInterval,
      maximumAttempts: policy.retry.maximumAttempts,
      nonRetryableErrorTypes: policy.retry.nonRetryableErrorTypes,
    },
  });
  return { default: toPolicy(config.activities.default), chain: toPolicy(config.activities.chain) };
}
