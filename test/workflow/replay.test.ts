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
  it('has saved histories of the part workflow to replay', () => {
    expect(files.filter((file) => file.startsWith('part-v2-')).length).toBeGreaterThanOrEqual(2);
  });

  it('replays every saved history deterministically', async () => {
    const histories = files.map((file) => ({ workflowId: file, history: JSON.parse(readFileSync(join(DIR, file), 'utf8')) }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowBundle: { codePath: inject('workflowBundlePath') } }, histories)) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  });
});
