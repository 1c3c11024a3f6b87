// A worker on a task queue of its own, with the core and a client, for one workflow test file, and
// the history recorder the replay test feeds on.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, inject } from 'vitest';
import type { Client } from '@temporalio/client';
import type { TemporalConfig } from '../../app/config/temporal.js';
import { findTemporalCli } from '../../app/devstack/temporal-cli.js';
import type { Core } from '../../app/wiring/core.js';
import { connectTemporalClient, startWorker } from '../../app/wiring/temporal-worker.js';
import type { RunningWorker } from '../../app/wiring/temporal-worker.js';
import { openTestCore, testTemporalConfig } from './env.js';

export interface WorkflowEnv {
  core: Core;
  temporal: TemporalConfig;
  worker: RunningWorker;
  client: Client;
}

/** Registers beforeAll/afterAll hooks; the returned object is filled in before the first test. */
export function useWorkflowEnv(): WorkflowEnv {
  const env = {} as WorkflowEnv;
  beforeAll(async () => {
    env.core = await openTestCore();
    env.temporal = testTemporalConfig();
    env.worker = await startWorker(env.temporal, env.core.activityDeps, { workflowBundlePath: inject('workflowBundlePath') });
    env.client = await connectTemporalClient(env.temporal);
  });
  afterAll(async () => {
    await env.worker?.stop();
    await env.client?.connection.close();
    await env.core?.close();
  });
  return env;
}

/**
 * With RECORD_HISTORIES=1, saves a workflow's history for the replay test, in the JSON form the
 * Temporal CLI writes. Record new ones when the workflow changes on purpose; keep the old ones.
 */
export async function saveHistory(env: WorkflowEnv, workflowId: string, name: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const cli = (await findTemporalCli())!;
  const { stdout } = await promisify(execFile)(
    cli,
    ['workflow', 'show', '--workflow-id', workflowId, '--address', env.temporal.connection.address, '--output', 'json'],
    {
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  mkdirSync('test/histories', { recursive: true });
  writeFileSync(`test/histories/${name}.json`, stdout);
}
