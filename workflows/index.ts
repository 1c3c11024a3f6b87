// The workflow bundle's entry point: every workflow type the worker serves. `part` interprets
// lifecycle definitions; the ledger tasks run chain writes outside a part's lifecycle. workflows/ is
// the deterministic sandbox: it imports only workflows/, @temporalio/workflow and types of
// @temporalio/common, and activities/ implements its activity contract (activity-contract.ts).
export { part } from './part.js';
export { ledgerAction, participantLedgerSync } from './ledger-tasks.js';
