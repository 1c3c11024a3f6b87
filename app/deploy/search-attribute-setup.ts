// The part workflows' search attributes on the Temporal namespace: registered by `tracewell deploy`,
// checked by the worker, API and intake at start.
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { PART_SEARCH_ATTRIBUTES } from '../../workflows/search-attributes.js';
import { notDeployed } from './readiness.js';

// @temporalio/proto is CommonJS: under plain Node ESM its namespace is the default export.
const { IndexedValueType } = proto.temporal.api.enums.v1;

async function missingPartSearchAttributes(client: Client, namespace: string) {
  const { customAttributes } = await client.connection.operatorService.listSearchAttributes({ namespace });
  return PART_SEARCH_ATTRIBUTES.filter((key) => !(key.name in (customAttributes ?? {})));
}

/**
 * Registers the part workflows' search attributes on a Temporal server that lacks them (`tracewell
 * deploy`; the dev server gets them at start). Temporal Cloud refuses this call: there, add them
 * with `tcld` and this check only reports which are missing.
 */
export async function ensurePartSearchAttributes(client: Client, namespace: string, log: (line: string) => void = () => {}): Promise<void> {
  const missing = await missingPartSearchAttributes(client, namespace);
  if (missing.length === 0) {
    log(`temporal: search attributes current (namespace ${namespace})`);
    return;
  }
  const names = missing.map((key) => key.name).join(', ');
  try {
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]])),
    });
    log(`temporal: registered search attributes ${names} on namespace ${namespace}`);
  } catch (error) {
    throw new Error(`search attributes ${names} are missing on namespace ${namespace} and could not be added: ${(error as Error).message}`);
  }
}

/** The start-up check of worker and API: the search attributes are there; registering them is `tracewell deploy`'s. */
export async function requirePartSearchAttributes(client: Client, namespace: string): Promise<void> {
  const missing = await missingPartSearchAttributes(client, namespace);
  if (missing.length > 0)
    notDeployed([`temporal: search attributes ${missing.map((key) => key.name).join(', ')} are missing on namespace ${namespace}`]);
}
