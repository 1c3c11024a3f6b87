// The workflow bundle's entry point: every workflow type the worker serves. `part` interprets
// lifecycle definitions; the ledger tasks run chain writes outside a part's lifecycle.
export { part } from './part.js';
export { ledgerAction, participantLedgerSync } from './ledger-tasks.js';
