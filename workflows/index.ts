// The workflow bundle's entry point: every workflow type the worker serves.
export { partLifecycle } from './part-lifecycle.js';
