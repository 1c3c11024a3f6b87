// Publishing definitions into the SQL registry, from the API, the CLI and the lifecycles/ folder.
import { basename } from 'node:path';
import type { Db } from '../../db/client.js';
import { publishLifecycle } from '../../db/lifecycles.js';
import type { PublishOutcome } from '../../db/lifecycles.js';
import { compileLifecycle, contentHashOf } from './compile.js';
import { lifecycleFilesIn, readLifecycleFile } from './load.js';
import type { AuthoredLifecycle } from './authoring-schema.js';

export function publishDefinition(db: Db, definition: AuthoredLifecycle, source: string): Promise<PublishOutcome> {
  return publishLifecycle(db, {
    name: definition.name,
    version: definition.version,
    contentHash: contentHashOf(definition),
    definition: definition as unknown as Record<string, unknown>,
    compile: (version) => compileLifecycle(definition, version),
    source,
  });
}

/**
 * Publishes every definition file in `dir` (unchanged ones are no new version). All files are read
 * and validated first, so one bad file stops start-up before anything is published.
 */
export async function publishDirectory(
  db: Db,
  dir: string,
  log: (line: string) => void = () => {},
): Promise<{ file: string; published: PublishOutcome }[]> {
  const definitions = lifecycleFilesIn(dir).map((file) => ({ file: basename(file), definition: readLifecycleFile(file) }));
  const outcomes: { file: string; published: PublishOutcome }[] = [];
  for (const { file, definition } of definitions) {
    const published = await publishDefinition(db, { ...definition, version: undefined }, file);
    if (published.outcome === 'created') log(`lifecycle ${published.row.name} v${published.row.version} published from ${file}`);
    outcomes.push({ file, published });
  }
  return outcomes;
}
