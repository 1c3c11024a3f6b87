// Search attributes of each part workflow, so the Temporal UI and `temporal workflow list --query`
// find parts by id, lifecycle, version, current step, status and error code, e.g.
// `TracewellStatus = "parked" AND TracewellLifecycle = "chip"`. Pure: bundled into the workflow.
import type { SearchAttributeKey, SearchAttributeType } from '@temporalio/common/lib/search-attributes.js';

/** What `defineSearchAttributeKey` of @temporalio/common builds; written out so the sandbox imports only its types. */
const defineSearchAttributeKey = <T extends SearchAttributeType>(name: string, type: T): SearchAttributeKey<T> => ({ name, type });

export const PART_ID_ATTRIBUTE = defineSearchAttributeKey('TracewellPartId', 'KEYWORD');
export const LIFECYCLE_ATTRIBUTE = defineSearchAttributeKey('TracewellLifecycle', 'KEYWORD');
export const LIFECYCLE_VERSION_ATTRIBUTE = defineSearchAttributeKey('TracewellLifecycleVersion', 'INT');
export const STEP_ATTRIBUTE = defineSearchAttributeKey('TracewellStep', 'KEYWORD');
export const STATUS_ATTRIBUTE = defineSearchAttributeKey('TracewellStatus', 'KEYWORD');
/** The error code of the step the part is parked (or failed) on; empty otherwise. */
export const ERROR_CODE_ATTRIBUTE = defineSearchAttributeKey('TracewellErrorCode', 'KEYWORD');

export const PART_SEARCH_ATTRIBUTES = [
  PART_ID_ATTRIBUTE,
  LIFECYCLE_ATTRIBUTE,
  LIFECYCLE_VERSION_ATTRIBUTE,
  STEP_ATTRIBUTE,
  STATUS_ATTRIBUTE,
  ERROR_CODE_ATTRIBUTE,
] as const;
