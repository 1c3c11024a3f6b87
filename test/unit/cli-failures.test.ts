// How the `tracewell` CLI ends on a failure: the exit code from the error's catalogue entry, the
// message as `tracewell: code: message`, or with --json the API's error answer on stdout.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { reportFailure } from '../../app/cli/report-failure.js';
import { Errors } from '../../domain/errors/catalogue.js';
import { CodedError } from '../../domain/errors/coded-error.js';

function report(error: unknown, json: boolean) {
  const out: string[] = [];
  const err: string[] = [];
  const code = reportFailure(error, { json, out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

async function tracewell(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  // Without a key from the caller's environment: the tests say which key the CLI gets.
  const { TRACEWELL_API_KEY: _, ...env } = process.env;
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['app/cli/bin.js', ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('CLI failures', () => {
  it('exits by the status class of the error code', () => {
    expect(report(new CodedError(Errors.invalid_option, { problem: '--set x' }), false)).toEqual({
      code: 2,
      out: [],
      err: ['tracewell: invalid_option: --set x'],
    });
    expect(report(new CodedError(Errors.part_not_found, { id: 'p' }), false).code).toBe(3);
    expect(report(new CodedError(Errors.part_not_parked, { reason: 'running' }), false).code).toBe(4);
    expect(report(new CodedError(Errors.api_unreachable, { url: 'http://x', reason: 'refused' }), false).code).toBe(5);
    expect(report(new CodedError(Errors.forbidden, { reason: 'no' }), false).code).toBe(6);
    expect(report(new Error('boom'), false)).toMatchObject({ code: 1, out: [] });
  });

  it('prints the API error answer with --json', () => {
    const answer = report(
      new CodedError(Errors.invalid_step_params, { problems: 'params.x: required' }, [{ field: 'params.x', message: 'required' }]),
      true,
    );
    expect(answer.code).toBe(2);
    expect(JSON.parse(answer.out[0]!)).toEqual({
      error: { code: 'invalid_step_params', message: 'params.x: required', details: [{ field: 'params.x', message: 'required' }] },
    });
    expect(JSON.parse(report(new Error('boom'), true).out[0]!)).toEqual({ error: { code: 'internal_error', message: 'boom' } });
  });

  it('treats a usage error as bad input, and help as success', () => {
    expect(report(new CommanderError(1, 'commander.missingArgument', "error: missing required argument 'step'"), false)).toEqual({
      code: 2,
      out: [],
      err: [],
    });
    expect(report(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), true)).toEqual({ code: 0, out: [], err: [] });
  });

  it('ends the real process that way', async () => {
    const unreachable = await tracewell('--json', 'ops', 'retry', 'urn:x:1', 'ship', '--api', 'http://127.0.0.1:9', '--api-key', 'tw_x');
    expect(unreachable.code).toBe(5);
    expect(JSON.parse(unreachable.stdout)).toMatchObject({ error: { code: 'api_unreachable' } });
    // A missing key is said before any request: it is not an unreachable API.
    const keyless = await tracewell('ops', 'failures', '--api', 'http://127.0.0.1:9');
    expect(keyless).toMatchObject({
      code: 6,
      stderr: expect.stringMatching(
        /^tracewell: api_key_missing: tracewell ops: no API key for http:\/\/127\.0\.0\.1:9 \(from --api\): pass --api-key KEY or set TRACEWELL_API_KEY/,
      ),
    });
    const usage = await tracewell('ops', 'retry', 'urn:x:1', '--json');
    expect(usage).toMatchObject({ code: 2, stderr: "error: missing required argument 'step'\n" });
    expect(JSON.parse(usage.stdout)).toEqual({ error: { code: 'invalid_usage', message: "missing required argument 'step'" } });
  });
});
