// Reading definitions from text and files: YAML or JSON (JSON is read by the YAML parser too, so
// both get line numbers in their errors).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { AuthoredLifecycle } from './authoring-schema.js';
import { formatProblem, validateLifecycle } from './validate.js';
import type { DefinitionProblem } from './validate.js';
import { CodedError } from '../errors/coded-error.js';
import { Errors } from '../errors/catalogue.js';

export type ParseResult = { ok: true; definition: AuthoredLifecycle } | { ok: false; problems: DefinitionProblem[] };

/** Parses and validates a definition's text; problems carry the line they point at. */
export function parseLifecycle(text: string): ParseResult {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    return {
      ok: false,
      problems: document.errors.map((error) => ({
        path: '(syntax)',
        message: error.message.split('\n')[0]!,
        line: lineCounter.linePos(error.pos[0]).line,
      })),
    };
  }
  const result = validateLifecycle(document.toJS());
  if (result.ok) return result;
  for (const problem of result.problems) {
    const segments = problem.path.match(/[^.[\]]+/g)?.map((s) => (/^\d+$/.test(s) ? Number(s) : s)) ?? [];
    // The deepest node that exists on the path (a missing field points at its step).
    for (let n = segments.length; n > 0; n--) {
      const node = document.getIn(segments.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) {
        problem.line = lineCounter.linePos(node.range[0]).line;
        break;
      }
    }
  }
  result.problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return result;
}

export class LifecycleFileError extends CodedError<typeof Errors.invalid_lifecycle_file> {
  override name = 'LifecycleFileError';
  constructor(
    readonly file: string,
    readonly problems: DefinitionProblem[],
  ) {
    super(Errors.invalid_lifecycle_file, { problems: problems.map((problem) => formatProblem(file, problem)).join('\n') }, problems);
  }
}

export function readLifecycleFile(path: string): AuthoredLifecycle {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new LifecycleFileError(path, [{ path: '(file)', message: (error as Error).message }]);
  }
  const result = parseLifecycle(text);
  if (!result.ok) throw new LifecycleFileError(path, result.problems);
  return result.definition;
}

/** Definition files in a directory (`*.yaml`, `*.yml`, `*.json` but not the JSON Schema), sorted. */
export function lifecycleFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => /\.(ya?ml|json)$/.test(name) && !name.endsWith('.schema.json'))
    .sort()
    .map((name) => join(dir, name));
}
