// docs/errors.md, generated from the catalogue (`npm run docs:errors`); a unit test fails when the
// file in the tree is not what this renders.
import { ERROR_ENTRIES } from './catalogue.js';
import { EXIT_CODES, exitCodeOf } from './coded-error.js';

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function errorCatalogueMarkdown(): string {
  const rows = ERROR_ENTRIES.map(
    (entry) => `| \`${entry.code}\` | ${entry.status} | ${exitCodeOf(entry.status)} | ${cell(entry.message)} |`,
  );
  return [
    '# Error codes',
    '',
    '<!-- Generated from domain/errors/catalogue.ts by `npm run docs:errors`; do not edit by hand. -->',
    '',
    'Every refusal Tracewell answers with has a code from one catalogue (`domain/errors/catalogue.ts`).',
    'The HTTP API answers `{ "error": { "code", "message", "details"? } }` with the status below; the',
    'Service Bus intake dead-letters a message it can never apply with the code as its reason and the',
    'message as its description; the `tracewell` CLI exits with the exit code below and, with `--json`,',
    'prints the same `{ "error": ... }` object on stdout. A message is its template with each',
    '`{parameter}` filled in.',
    '',
    'A failed workflow step records a Temporal failure type instead (PascalCase, e.g. `RoleMismatch`,',
    '`ChainUnavailableError`: `domain/errors/step-rejections.ts`, `workflows/failures.ts`), kept',
    'unchanged so saved histories replay.',
    '',
    '## Exit codes',
    '',
    '| Exit code | Meaning |',
    '| --- | --- |',
    ...EXIT_CODES.map((exit) => `| ${exit.code} | ${cell(exit.meaning)} |`),
    '',
    '## Codes',
    '',
    '| Code | HTTP status | Exit code | Message |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
