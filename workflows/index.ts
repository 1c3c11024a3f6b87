// The workflow bundle's entry point: every workflow type the worker serves.
// `part` interprets lifecycle definitions; `partLifecycle` is the first, fixed lifecycle, kept
// registered so parts started on it finish (its saved histories keep replaying in CI).
export { part } from './part.js';
export { partLifecycle } from './part-lifecycle.js';
export { ledgerAction, participantLedgerSync } from './ledger-tasks.js';
