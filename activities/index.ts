// Every activity the worker registers, built from its dependencies: one module per step kind, the
// interpreter's SQL bookkeeping, and the ledger tasks outside a lifecycle.
import { createAssembleActivities } from './assemble.js';
import { createBundleActivities } from './bundles.js';
import { createCertificateActivities } from './certificates.js';
import { createCertificationResumeActivities } from './certification-resume.js';
import type { ActivityDeps } from './context.js';
import { createLedgerActionActivities } from './ledger-actions.js';
import { createMintActivities } from './mint.js';
import { createOnboardingActivities } from './onboarding.js';
import { createPartRecordActivities } from './part-records.js';
import { createRecordActivities } from './record.js';
import { createTransferActivities } from './transfer.js';
import type { WorkflowActivities } from '../workflows/activity-contract.js';

/** Every activity; checked against the workflows' contract, so a missing or mistyped one fails here. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createPartRecordActivities(deps),
    ...createMintActivities(deps),
    ...createTransferActivities(deps),
    ...createRecordActivities(deps),
    ...createCertificateActivities(deps),
    ...createCertificationResumeActivities(deps),
    ...createBundleActivities(deps),
    ...createAssembleActivities(deps),
    ...createLedgerActionActivities(deps),
    ...createOnboardingActivities(deps),
  } satisfies WorkflowActivities;
}

export type Activities = ReturnType<typeof createActivities>;
export type { ActivityDeps } from './context.js';
