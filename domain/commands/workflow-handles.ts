// Looking a workflow up without treating "there is none" as an error.
import { WorkflowNotFoundError } from '@temporalio/client';
import type { WorkflowHandle } from '@temporalio/client';

/** The workflow's description, or undefined when there is no such workflow. */
export function describeIfExists(handle: WorkflowHandle) {
  return handle.describe().catch((error: unknown) => {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  });
}
