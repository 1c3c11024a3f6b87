// `tracewell lifecycle validate` as a process engineer runs it: exit code and messages.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

async function validate(...files: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['app/cli/bin.js', 'lifecycle', 'validate', ...files]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('tracewell lifecycle validate', () => {
  it('exits 0 for valid files', async () => {
    const result = await validate('app/seed/lifecycles/chip.yaml', 'app/seed/lifecycles/pallet.yaml');
    expect(result).toMatchObject({
      code: 0,
      stdout: 'app/seed/lifecycles/chip.yaml: ok (chip, 11 steps)\napp/seed/lifecycles/pallet.yaml: ok (pallet, 1 steps)\n',
    });
  });

  it('exits non-zero and prints each problem with file, line, field and step', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracewell-lifecycle-'));
    const file = join(dir, 'chip.yaml');
    const text = readFileSync('app/seed/lifecycles/chip.yaml', 'utf8')
      .replace('    to: distributor\n', '    to: distributer\n')
      .replace('kind: certify', 'kind: certfy');
    writeFileSync(file, text);
    const lineOf = (needle: string) => text.split('\n').findIndex((line) => line.includes(needle)) + 1;
    const result = await validate('app/seed/lifecycles/pallet.yaml', file);
    expect(result.code).toBe(2); // invalid_lifecycle_file (422): bad input
    expect(result.stdout).toBe('app/seed/lifecycles/pallet.yaml: ok (pallet, 1 steps)\n');
    expect(result.stderr.trim().split('\n')).toEqual([
      `${file}:${lineOf('kind: certfy')}: steps[6].kind [step "certify"]: unknown step kind "certfy" (did you mean "certify"?); kinds: mint, transfer, await, record, attach-certificate, certify, bundle, unbundle, assemble, decommission`,
      `${file}:${lineOf('to: distributer')}: steps[8].to [step "ship"]: unknown participant role "distributer" (did you mean "distributor"?); roles: miner, manufacturer, distributor, retailer, certifier`,
    ]);
  });
});
