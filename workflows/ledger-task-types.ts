// Names shared by the ledger task workflows and their callers (importable outside the workflow sandbox).
export const PARTICIPANT_SYNC_WORKFLOW_TYPE = 'participantLedgerSync';
export const LEDGER_ACTION_WORKFLOW_TYPE = 'ledgerAction';
