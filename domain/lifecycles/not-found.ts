// The refusal for a lifecycle name nothing is published under, with the published name it is
// closest to: a mistyped `part-basc` hears "did you mean part-basic?", as definitions do.
import type { Db } from '../../db/client.js';
import { lifecycleNames } from '../../db/lifecycles.js';
import { didYouMean } from '../../workflows/suggest.js';
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';

/** `lifecycle_not_found` for `name`, suggesting the closest published name (read only on this error path). */
export async function lifecycleNotFound(db: Db, name: string): Promise<CodedError> {
  const names = await lifecycleNames(db);
  return new CodedError(Errors.lifecycle_not_found, { name, suggestion: didYouMean(name, names) });
}
