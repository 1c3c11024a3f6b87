// `tracewell deploy` as its own process: opens PostgreSQL, the chain, the key store, the blob
// container and a Temporal client from the environment, runs the deploy and closes them again.
import type { AppConfig } from '../config/app-config.js';
import { ConfigError } from '../config/config-error.js';
import { openDatabase } from '../../db/client.js';
import type { DeploymentRecord } from '../../db/deployments.js';
import { connectChain } from '../../domain/chain/connection.js';
import { deploy } from '../deploy/deploy.js';
import { blobContainer } from './blob.js';
import { chainMnemonic, openKeyStore } from './keys.js';
import { connectTemporalClient } from './temporal-worker.js';
import { loadTemporalConfig } from '../config/temporal.js';

export async function runDeploy(config: AppConfig, log: (line: string) => void): Promise<DeploymentRecord> {
  if (!config.DATABASE_URL)
    throw new ConfigError('DATABASE_URL: required by `tracewell deploy` (`tracewell dev` deploys into its embedded PGlite itself)');
  if (!config.CHAIN_RPC_URL) throw new ConfigError('CHAIN_RPC_URL: required by `tracewell deploy`');
  if (!config.AZURE_STORAGE_CONNECTION_STRING)
    throw new ConfigError('AZURE_STORAGE_CONNECTION_STRING: required by `tracewell deploy` (it creates the document container)');
  const keys = openKeyStore(config, false, chainMnemonic(config, false));
  const chain = await connectChain(config.CHAIN_RPC_URL);
  const container = blobContainer(config.AZURE_STORAGE_CONNECTION_STRING, config.DOCUMENTS_CONTAINER);
  const temporal = loadTemporalConfig(config.TRACEWELL_TEMPORAL_CONFIG);
  const client = await connectTemporalClient(temporal);
  const database = await openDatabase({ url: config.DATABASE_URL, poolSize: 4 });
  try {
    return await deploy({
      database,
      chain,
      keys,
      config,
      container,
      fund: config.CHAIN_FUND_PARTICIPANTS,
      adminApiKey: config.TRACEWELL_ADMIN_API_KEY,
      temporal: { client, namespace: temporal.connection.namespace },
      log,
    });
  } finally {
    await database.close();
    await client.connection.close();
  }
}
