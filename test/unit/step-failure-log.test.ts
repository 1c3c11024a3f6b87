// What the worker logs when a step activity fails: an expected rejection as one line naming the
// part, step, code and message; any other error as the SDK's warning with its stack. Runs the real
// activity machinery (MockActivityEnvironment runs the worker's Activity class and interceptors).
// And a part failed on purpose by its lifecycle (`onFailure: fail`): one line, not a stack.
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import type { LogLevel, LogMetadata } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { stepFailureLogging } from '../../activities/step-failure-log.js';
import { StepRejection, rejectingReverts, stepRejected } from '../../activities/step-failures.js';
import { ContractRevertError } from '../../domain/chain/tx-sender.js';
import { WorkerLogger } from '../../app/wiring/worker-log.js';
import { PartFailure, stepFailedMessage } from '../../workflows/failures.js';

interface Entry {
  level: LogLevel;
  message: string;
  meta?: LogMetadata;
}

/** Runs `work` as an activity of a worker logging at WARN, as `tracewell dev` and the tests do. */
async function runLogged(work: () => Promise<unknown>) {
  const entries: Entry[] = [];
  const logger = new DefaultLogger('WARN', ({ level, message, meta }) => entries.push({ level, message, meta }));
  const env = new MockActivityEnvironment({ activityType: 'transferPart' }, { logger, interceptors: [stepFailureLogging(logger)] });
  const call = { partId: 'urn:test:chip:1', stepId: 'ship', run: 1, params: {} };
  const error = await env
    .run(async (_: typeof call) => work(), call)
    .then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
  return { entries, error };
}

describe('step failure logging', () => {
  it('logs an expected rejection as one line with part, step, code and message, and no stack', async () => {
    const message = 'participant "harbor-retail" does not hold the role "distributor" (it holds: retailer)';
    const { entries, error } = await runLogged(() => Promise.reject(stepRejected(StepRejection.RoleMismatch, message)));
    expect(error).toMatchObject({ type: 'RoleMismatch', nonRetryable: true, category: ApplicationFailureCategory.BENIGN });
    expect(entries).toEqual([
      { level: 'WARN', message: `step failed: part urn:test:chip:1 step ship RoleMismatch: ${message}`, meta: undefined },
    ]);
  });

  it('logs a contract revert the step rejects the same way', async () => {
    const revert = new ContractRevertError('NotHolder(address)', 'NotHolder');
    const { entries, error } = await runLogged(() => rejectingReverts(() => Promise.reject(revert)));
    expect(error).toMatchObject({ type: 'NotHolder', category: ApplicationFailureCategory.BENIGN });
    expect(entries.map((e) => e.message)).toEqual([
      expect.stringMatching(/^step failed: part urn:test:chip:1 step ship NotHolder: the contract refused: /),
    ]);
    expect(entries[0]!.message).not.toContain('\n');
  });

  it('keeps the warning with its stack for an unexpected error', async () => {
    const { entries } = await runLogged(() => Promise.reject(new TypeError("Cannot read properties of undefined (reading 'map')")));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: 'WARN', message: 'Activity failed' });
    const logged = entries[0]!.meta?.error as Error;
    expect(logged).toBeInstanceOf(TypeError);
    expect(logged.stack).toContain('step-failure-log.test.ts');
  });
});

describe('the runtime logger', () => {
  const capture = () => {
    const entries: Entry[] = [];
    return {
      entries,
      logger: new WorkerLogger(new DefaultLogger('WARN', ({ level, message, meta }) => entries.push({ level, message, meta }))),
    };
  };
  const workflowMeta = { sdkComponent: 'worker', workflowId: 'urn:test:chip:2', workflowType: 'part' };

  it('logs a part its lifecycle failed on purpose as one line', () => {
    const { entries, logger } = capture();
    const thrown = ApplicationFailure.nonRetryable(
      stepFailedMessage('final', 'part urn:test:chip:2 lacks valid certificates'),
      PartFailure.StepFailed,
    );
    // As the worker gets it from the workflow thread: structured-cloned, its failure type gone.
    const error = structuredClone(thrown);
    expect(error).not.toHaveProperty('type');
    logger.warn('Workflow failed', { ...workflowMeta, error });
    expect(entries).toEqual([
      {
        level: 'WARN',
        message:
          'part failed: part urn:test:chip:2 step final failed: part urn:test:chip:2 lacks valid certificates (its lifecycle says onFailure: fail)',
        meta: undefined,
      },
    ]);
  });

  it('passes any other failure, and every other message, through with its metadata', () => {
    const { entries, logger } = capture();
    const bug = structuredClone(new TypeError("Cannot read properties of undefined (reading 'map')"));
    logger.warn('Workflow failed', { ...workflowMeta, error: bug });
    logger.error('Worker failed', { error: bug });
    logger.info('Worker state changed');
    expect(entries).toEqual([
      { level: 'WARN', message: 'Workflow failed', meta: { ...workflowMeta, error: bug } },
      { level: 'ERROR', message: 'Worker failed', meta: { error: bug } },
    ]);
  });
});
