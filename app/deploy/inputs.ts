// What a deployment is made of, as this build and its configuration would deploy it: compared with
// the recorded deployment by every process at start, so this stays cheap (a few small files hashed).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keccak256 } from 'viem';
import { partRegistryBytecode } from '../../contracts/generated/PartRegistry.js';
import type { AppConfig } from '../config/app-config.js';
import { ConfigError } from '../config/config-error.js';
import { lifecycleFilesIn } from '../../domain/lifecycles/load.js';

export interface DeploymentInputs {
  /** keccak256 of the PartRegistry bytecode this build deploys. */
  registryBytecodeHash: string;
  participantsHash: string;
  lifecyclesHash: string;
  version: string;
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function readSeed(path: string, setting: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`${setting}: ${(error as Error).message}`);
  }
}

const packageVersion = (): string =>
  (JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8')) as { version: string })
    .version;

export function deploymentInputs(config: AppConfig): DeploymentInputs {
  let files: string[];
  try {
    files = lifecycleFilesIn(config.TRACEWELL_LIFECYCLES);
  } catch (error) {
    throw new ConfigError(`TRACEWELL_LIFECYCLES: ${(error as Error).message}`);
  }
  // Names count as well as contents: a renamed file is published from its new name.
  const lifecycles = files.map((file) => `${basename(file)}\0${sha256(readSeed(file, 'TRACEWELL_LIFECYCLES'))}`).join('\n');
  return {
    registryBytecodeHash: keccak256(partRegistryBytecode),
    participantsHash: sha256(readSeed(config.TRACEWELL_PARTICIPANTS, 'TRACEWELL_PARTICIPANTS')),
    lifecyclesHash: sha256(lifecycles),
    version: packageVersion(),
  };
}
