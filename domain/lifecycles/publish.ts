// Publishing definitions into the SQL registry, from the API, the CLI and the lifecycles/ folder.
import { basename } from 'node:path';
import type { Db } from '../../db/client.js';
import { publishLifecycle } from '../../db/lifecycles.js';
import type { PublishOutcome } from '../../db/lifecycles.js';
import { compileLifecycle, contentHashOf } from './compile.js';
import { lifecycleFilesIn, readLifecycleFile } from './load.js';
import type { AuthoredLifecycle } from './authoring-schema.js';

export function publishDefinition(
  db: Db,
  definition: AuthoredLifecycle,
  source: string,
  { makeDefault = true }: { makeDefault?: boolean } = {},
): Promise<PublishOutcome> {
  return publishLifecycle(db, {
    makeDefault,
    name: definition.name,
    version: definition.version,
    contentHash: contentHashOf(definition),
    definition: definition as unknown as Record<string, unknown>,
    compile: (version) => compileLifecycle(definition, version),
    source,
  });
}

/**
 * Publishes every definition file in `dir`. A file whose content is any published version publishes
 * nothing (so a restart never moves the default back to older content). All files are read and
 * validated first, so one bad file stops start-up before anything is published.
 */
export async function publishDirectory(db: Db, dir: string): Promise<{ file: string; published: PublishOutcome }[]> {
  const definitions = lifecycleFilesIn(dir).map((file) => ({ file: basename(file), definition: readLifecycleFile(file) }));
  const outcomes: { file: string; published: PublishOutcome }[] = [];
  for (const { file, definition } of definitions) {
    outcomes.push({ file, published: await publishDefinition(db, { ...definition, version: undefined }, file) });
  }
  return outcomes;
}
