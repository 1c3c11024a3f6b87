import type { Client } from '@temporalio/client';
import type { Db } from '../db/client.js';
import type { ChainConnection } from '../ledger/chain.js';
import type { ActivityPolicies } from '../workflows/types.js';

/** What the HTTP API needs: the SQL mirror, the Temporal client, and the chain for health checks. */
export interface ApiDeps {
  db: Db;
  temporal: Client;
  taskQueue: string;
  /** Activity policies from temporal.yaml, pinned into each new part's workflow input. */
  policies: ActivityPolicies;
  chain: ChainConnection;
}
