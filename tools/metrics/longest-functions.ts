// Prints the longest functions in the code base, longest first, with their length in lines (from the
// first line of the signature to the closing brace, nested functions included, as eslint's
// max-lines-per-function counts them). `npm run longest-functions -- --top 30 --tests`.
// Test files are left out unless --tests is given: a describe() callback is a list of cases, not logic.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const GENERATED = /^(contracts\/generated|db\/migrations|test\/histories)\//;

export interface FunctionLength {
  file: string;
  line: number;
  name: string;
  lines: number;
}

/** A readable name: the declaration's own, the variable or property it is assigned to, or the call it is passed to. */
function nameOf(node: ts.FunctionLikeDeclaration, source: ts.SourceFile): string {
  if (node.name) return node.name.getText(source);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return parent.name.getText(source);
  }
  if (ts.isCallExpression(parent)) return `<callback of ${parent.expression.getText(source).slice(0, 40)}>`;
  return '<anonymous>';
}

export function functionLengths(file: string, text: string): FunctionLength[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: FunctionLength[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      found.push({ file, line: start + 1, name: nameOf(node, source), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function main(): void {
  const { values } = parseArgs({ options: { top: { type: 'string', default: '15' }, tests: { type: 'boolean', default: false } } });
  const files = execFileSync('git', ['ls-files', '*.ts'], { encoding: 'utf8' })
    .split('\n')
    .filter((file) => file && !GENERATED.test(file) && (values.tests || !file.startsWith('test/')));
  const all = files.flatMap((file) => functionLengths(file, readFileSync(file, 'utf8')));
  all.sort((a, b) => b.lines - a.lines);
  for (const fn of all.slice(0, Number(values.top))) {
    console.log(`${String(fn.lines).padStart(5)}  ${fn.name}  ${fn.file}:${fn.line}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
