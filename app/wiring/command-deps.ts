// What the commands on parts need, from a core and a Temporal client: one place for the API, the
// stack and `tracewell intake`.
import type { Client } from '@temporalio/client';
import type { CommandDeps } from '../../domain/commands/deps.js';
import { activityPolicies } from '../config/temporal.js';
import type { TemporalConfig } from '../config/temporal.js';
import type { Core } from './core.js';

export function commandDepsOf(core: Pick<Core, 'database' | 'registry'>, client: Client, temporal: TemporalConfig): CommandDeps {
  return {
    db: core.database.db,
    temporal: client,
    taskQueue: temporal.taskQueue,
    policies: activityPolicies(temporal),
    registry: core.registry,
  };
}
