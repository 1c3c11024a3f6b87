// Temporal's worker logs every state change at INFO; tests only want warnings and errors, with
// expected part failures as one line each, as `tracewell dev` logs them.
import { Runtime } from '@temporalio/worker';
import { workerLogger } from '../../app/wiring/worker-log.js';

Runtime.install({ logger: workerLogger('WARN') });
