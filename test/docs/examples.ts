// Shell examples of the docs, as data: fenced ```sh blocks taken from Markdown, and a runner that
// executes one page's blocks in order in bash, carrying variables and functions from block to block
// the way a reader's shell would.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Fence languages that are shell examples: each must run, or say which test covers it. */
const SHELL = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);

export interface ShellBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
  /** The test file named by `not-run: covered by <file>`, when the block is not run here. */
  coveredBy?: string;
  /** `not-run` without a test file named: an error the test reports. */
  notRunUnnamed?: boolean;
  /** Expected exit status (`exit=N` in the fence info); 0 by default. */
  exit: number;
  /** The block's stdout as shown by an `output` block right after it ("…" stands for any text). */
  output?: string;
}

export interface Fence {
  info: string;
  line: number;
  code: string;
  /** Lines between the previous fence's end and this one. */
  gap: string;
}

/** Every fenced block of a Markdown text, with its info string and opening line. */
export function fences(markdown: string): Fence[] {
  const lines = markdown.split('\n');
  const found: Fence[] = [];
  let gapStart = 0;
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith(open[1]!) && l.trim() === open[1]);
    if (end < 0) throw new Error(`line ${i + 1}: unclosed code fence`);
    found.push({ info: open[2]!.trim(), line: i + 1, code: lines.slice(i + 1, end).join('\n'), gap: lines.slice(gapStart, i).join('\n') });
    i = end;
    gapStart = end + 1;
  }
  return found;
}

/** The shell blocks of one Markdown file, each with the output block that follows it, if any. */
export function shellBlocks(file: string, markdown = readFileSync(file, 'utf8')): ShellBlock[] {
  const all = fences(markdown);
  const blocks: ShellBlock[] = [];
  all.forEach((fence, index) => {
    const [lang = '', ...rest] = fence.info.split(/\s+/);
    if (!SHELL.has(lang.toLowerCase())) return;
    const info = rest.join(' ');
    const notRun = /\bnot-run\b(?::\s*covered by\s+(\S+))?/.exec(info);
    const next = all[index + 1];
    const output = next && /\boutput\b/.test(next.info) && next.gap.trim() === '' ? next.code : undefined;
    blocks.push({
      file,
      line: fence.line,
      code: fence.code,
      coveredBy: notRun?.[1],
      notRunUnnamed: notRun !== null && !notRun[1],
      exit: Number(/\bexit=(\d+)/.exec(info)?.[1] ?? 0),
      output,
    });
  });
  return blocks;
}

/** Whether `actual` matches a shown output, where "…" stands for any text and runs of blanks for any blanks. */
export function outputMatches(shown: string, actual: string): boolean {
  const pattern = shown
    .trim()
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+'))
    .join('[\\s\\S]*?');
  return new RegExp(`^${pattern}$`).test(actual.trim());
}

export interface BlockResult {
  block: ShellBlock;
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * A reader's shell for one page: each block runs in `bash -euo pipefail` with the variables and
 * functions the earlier blocks left. curl is set to fail on an HTTP error answer (a .curlrc with
 * `fail-with-body`), so an example that the server refuses fails here too.
 */
export class PageShell {
  private readonly dir = mkdtempSync(join(tmpdir(), 'tracewell-docs-'));
  private readonly state = join(this.dir, 'state.sh');

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly cwd: string,
  ) {
    writeFileSync(join(this.dir, '.curlrc'), 'fail-with-body\nshow-error\n');
    writeFileSync(this.state, '');
  }

  run(block: ShellBlock, timeoutMs: number): Promise<BlockResult> {
    const script = [
      'set -euo pipefail',
      `source ${JSON.stringify(this.state)}`,
      // Save what the block defines for the next one (bash's own variables and read-only ones excepted).
      '__docs_save() {',
      '  local status=$?',
      '  {',
      '    declare -f',
      '    for v in $(compgen -v); do',
      '      case " $__DOCS_BASH_VARS " in',
      '        *" $v "*) ;;',
      '        *) declare -p "$v" 2>/dev/null | grep -Ev \'^declare -[a-zA-Z]*r\' || true ;;',
      '      esac',
      '    done',
      `  } > ${JSON.stringify(`${this.state}.next`)}`,
      '  return $status',
      '}',
      'trap __docs_save EXIT',
      block.code,
    ].join('\n');
    const scriptFile = join(this.dir, 'block.sh');
    writeFileSync(scriptFile, script);
    return new Promise((resolve, reject) => {
      const child = spawn('bash', [scriptFile], {
        cwd: this.cwd,
        env: { ...this.env, CURL_HOME: this.dir, __DOCS_BASH_VARS: bashOwnVariables() },
        stdio: ['ignore', 'pipe', 'pipe'],
        // A group of its own, so a block that hangs is killed with everything it started.
        detached: true,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, timeoutMs);
      child.on('error', reject);
      child.on('close', (status) => {
        clearTimeout(timer);
        try {
          writeFileSync(this.state, readFileSync(`${this.state}.next`, 'utf8'));
        } catch {
          // killed before it could save: the next block starts from the last state
        }
        resolve({ block, status, stdout, stderr });
      });
    });
  }
}

let bashVariables: string | undefined;
/** The variables bash defines itself (BASH_*, PIPESTATUS, PWD…): never carried between blocks. */
function bashOwnVariables(): string {
  bashVariables ??= [
    'PIPESTATUS',
    'FUNCNAME',
    'BASH_COMMAND',
    'BASH_LINENO',
    'BASH_SOURCE',
    'BASH_ARGV',
    'BASH_ARGC',
    'status',
    'v',
    '__DOCS_BASH_VARS',
  ]
    .concat(execFileSync('env', ['-i', 'bash', '--norc', '-c', 'compgen -v'], { encoding: 'utf8' }).split('\n'))
    .filter(Boolean)
    .join(' ');
  return bashVariables;
}
