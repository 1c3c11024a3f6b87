// Replays saved histories of real part workflows against today's workflow code. A change to the
// workflow that would break parts already running fails here (a non-determinism error).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { Worker } from '@temporalio/worker';

const DIR = 'test/histories';
const files = readdirSync(DIR).filter((file) => file.endsWith('.json'));

describe('workflow replay', () => {
  it('has saved histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
  });

  it.each(files)('%s replays deterministically', async (file) => {
    const history = JSON.parse(readFileSync(join(DIR, file), 'utf8'));
    await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, file);
  });
});
