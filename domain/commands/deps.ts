import type { Client } from '@temporalio/client';
import type { Db } from '../../db/client.js';
import type { PartRegistry } from '../chain/part-registry.js';
import type { ActivityPolicies } from '../../workflows/types.js';

/** What commands on parts need, whether they arrive over HTTP or Service Bus. */
export interface CommandDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  /** Activity policies from temporal.yaml, pinned into each new part's workflow input. */
  policies: ActivityPolicies;
  /** Reads who holds a part, to refuse a non-holder's action before it reaches the chain. */
  registry: PartRegistry;
}
