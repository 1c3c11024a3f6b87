// The start-up check of worker, API, listener and intake processes: the schema has every migration
// this build knows, and `tracewell deploy` recorded a deployment on this chain matching what this
// build and its seed files would deploy. Cheap (three queries, one getCode, a few small files
// hashed); it changes nothing, and refuses with every problem it found and the command that fixes them.
import type { ContainerClient } from '@azure/storage-blob';
import { getAddress } from 'viem';
import type { Address } from 'viem';
import type { Db } from '../../db/client.js';
import { findDeployment } from '../../db/deployments.js';
import { migrationStatus } from '../../db/migration-status.js';
import type { ChainConnection } from '../../domain/chain/connection.js';
import type { AppConfig } from '../config/app-config.js';
import { Errors } from '../../domain/errors/catalogue.js';
import { CodedError } from '../../domain/errors/coded-error.js';
import { deploymentInputs } from './inputs.js';

/** The database or the chain is not (or no longer) set up as this build needs: run `tracewell deploy` (`not_deployed`). */
export class DeploymentNotCurrent extends CodedError<typeof Errors.not_deployed> {
  override name = 'DeploymentNotCurrent';
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(Errors.not_deployed, { problem: message }, problems);
  }
}

export interface ReadinessCheck {
  db: Db;
  chain: ChainConnection;
  config: AppConfig;
  /** The document vault's container, for processes that store documents. */
  container?: ContainerClient;
}

const RUN_DEPLOY = "Run `tracewell deploy` (with this process's settings and seed files), then start this process again.";

/** Refuses to start: every problem, then the fix (by default, `tracewell deploy`). */
export function notDeployed(problems: string[], fix = RUN_DEPLOY): never {
  throw new DeploymentNotCurrent(`${problems.length === 1 ? problems[0] : `\n  - ${problems.join('\n  - ')}`}\n${fix}`, problems);
}

/** The PartRegistry to use, once the schema and the deployment are current; otherwise throws DeploymentNotCurrent. */
export async function requireCurrentDeployment({ db, chain, config, container }: ReadinessCheck): Promise<Address> {
  const schema = await migrationStatus(db);
  if (schema.newer > 0) {
    notDeployed(
      [`database schema: ${schema.newer} applied migration(s) are newer than this build of tracewell knows`],
      'Start the tracewell release that last ran `tracewell deploy` on this database.',
    );
  }
  if (schema.pending.length > 0) {
    const tags = schema.pending.map((migration) => migration.tag).join(', ');
    notDeployed([`database schema: ${schema.pending.length} of ${schema.known.length} migrations not applied (${tags})`]);
  }

  const deployment = await findDeployment(db, chain.chainId);
  if (!deployment) notDeployed([`no deployment recorded for chain ${chain.chainId}`]);
  const address = getAddress(deployment.partRegistry);
  const inputs = deploymentInputs(config);
  const problems: string[] = [];
  if (config.PART_REGISTRY_ADDRESS && getAddress(config.PART_REGISTRY_ADDRESS) !== address) {
    problems.push(
      `PART_REGISTRY_ADDRESS is ${getAddress(config.PART_REGISTRY_ADDRESS)}, but the deployment on chain ${chain.chainId} uses ${address}`,
    );
  }
  const code = await chain.client.getCode({ address });
  if (!code || code === '0x') problems.push(`PartRegistry: no contract at ${address} on chain ${chain.chainId} (was the chain reset?)`);
  else if (deployment.registryBytecodeHash && deployment.registryBytecodeHash !== inputs.registryBytecodeHash) {
    problems.push(`PartRegistry: the contract at ${address} is another build's (this build deploys a different bytecode)`);
  }
  if (deployment.participantsHash !== inputs.participantsHash)
    problems.push(`participants: ${config.TRACEWELL_PARTICIPANTS} changed since the last deploy`);
  if (deployment.lifecyclesHash !== inputs.lifecyclesHash)
    problems.push(`lifecycles: the files in ${config.TRACEWELL_LIFECYCLES} changed since the last deploy`);
  if (container && !(await container.exists())) problems.push(`documents: blob container ${container.containerName} does not exist`);
  if (problems.length > 0) notDeployed(problems);
  return address;
}
