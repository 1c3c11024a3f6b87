// The Temporal runtime's logger for Tracewell's processes. A part whose lifecycle says a failed step
// ends it (`onFailure: fail`) fails its workflow on purpose, and the SDK warns "Workflow failed"
// with the whole stack of where the workflow threw: one line says as much (the step's own failure
// was logged as one line by activities/step-failure-log.ts). Every other message, and any other
// workflow failure (a bug), passes through unchanged.
import { DefaultLogger, LogTimestamp } from '@temporalio/worker';
import type { Logger, LogLevel, LogMetadata } from '@temporalio/worker';
import { isStepFailedStack } from '../../workflows/failures.js';
import { PART_WORKFLOW_TYPE } from '../../workflows/part-types.js';

/** The message of a part workflow that failed because its lifecycle said so, or undefined. */
function partStepFailure(message: string, meta: LogMetadata | undefined): string | undefined {
  if (message !== 'Workflow failed' || meta?.workflowType !== PART_WORKFLOW_TYPE) return undefined;
  // The error crossed from the workflow thread: its class and failure type are gone, its stack stays.
  const error = meta.error as { message?: unknown; stack?: unknown } | undefined;
  if (typeof error?.stack !== 'string' || typeof error.message !== 'string') return undefined;
  return isStepFailedStack(error.stack) ? error.message : undefined;
}

export class WorkerLogger implements Logger {
  constructor(private readonly inner: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const failed = partStepFailure(message, meta);
    if (failed === undefined) return void this.inner.log(level, message, meta);
    const part = typeof meta?.workflowId === 'string' ? meta.workflowId : '?';
    this.inner.log(level, `part failed: part ${part} ${failed} (its lifecycle says onFailure: fail)`, {
      [LogTimestamp]: meta?.[LogTimestamp],
    });
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** The logger to install in the Temporal runtime: the SDK's own, at `level`, on stderr. */
export function workerLogger(level: LogLevel): Logger {
  return new WorkerLogger(new DefaultLogger(level));
}
