// The published JSON Schema of the lifecycle format, generated from the zod schemas that validate it.
// `npm run lifecycles:schema` writes it to app/seed/lifecycles/lifecycle.schema.json (a test checks it is fresh),
// and the API serves it at GET /lifecycles/schema.json. Editors use it for completion and checks.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod/v4';
import { lifecycleDocumentSchema } from './authoring-schema.js';

export const SCHEMA_ID = 'https://tracewell.dev/schemas/lifecycle.schema.json';
export const SCHEMA_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'app', 'seed', 'lifecycles', 'lifecycle.schema.json');

export function lifecycleJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(lifecycleDocumentSchema(), { unrepresentable: 'any' }),
    $id: SCHEMA_ID,
    title: 'Tracewell lifecycle definition',
  };
}

export function lifecycleJsonSchemaText(): string {
  return `${JSON.stringify(lifecycleJsonSchema(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCHEMA_FILE, lifecycleJsonSchemaText());
  console.log(`wrote ${SCHEMA_FILE}`);
}
