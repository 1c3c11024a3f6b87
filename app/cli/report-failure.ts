// How the CLI ends on a failure: the exit code comes from the error's catalogue entry (by its HTTP
// status class, domain/errors/coded-error.ts exitCodeOf), and with `--json` the failure is printed
// on stdout as the API answers it, `{ "error": { code, message, details? } }`.
import { CommanderError } from 'commander';
import { Errors } from '../../domain/errors/catalogue.js';
import { CodedError, EXIT_CODES, exitCodeOf } from '../../domain/errors/coded-error.js';

/** The failure as a coded error: a usage error commander found is `invalid_usage`; anything else is uncoded. */
export function codedFailureOf(error: unknown): CodedError | undefined {
  if (error instanceof CodedError) return error;
  if (error instanceof CommanderError) return new CodedError(Errors.invalid_usage, { problem: error.message.replace(/^error: /, '') });
  return undefined;
}

/** Prints the failure and says which exit code ends the process: the entry's, or 1 for an uncoded failure. */
export function reportFailure(
  error: unknown,
  options: { json: boolean; out?: (line: string) => void; err?: (line: string) => void },
): number {
  const out = options.out ?? ((line) => console.log(line));
  const err = options.err ?? ((line) => console.error(line));
  // commander printed its own message (and `--help` / `--version` end here with 0).
  if (error instanceof CommanderError && error.exitCode === 0) return 0;
  const coded = codedFailureOf(error);
  if (options.json) {
    out(
      JSON.stringify({
        error: coded
          ? coded.toJSON()
          : { code: Errors.internal_error.code, message: error instanceof Error ? error.message : String(error) },
      }),
    );
  } else if (coded && !(error instanceof CommanderError)) {
    err(`tracewell: ${coded.code}: ${coded.message}`);
  } else if (!coded) {
    err(String(error instanceof Error ? (error.stack ?? error.message) : error));
  }
  return coded ? exitCodeOf(coded.status) : 1;
}

/** The exit codes, for `tracewell --help`. */
export const EXIT_CODE_HELP = `\nExit codes (see docs/errors.md for every error code):\n${EXIT_CODES.map((e) => `  ${e.code}  ${e.meaning}`).join('\n')}\n`;
