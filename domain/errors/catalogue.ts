// Every coded error Tracewell answers with, in one place (after FireFly's catalogue of coded
// messages): its snake_case code, its one HTTP status, and its message template with `{named}`
// parameters. Throw one as `new CodedError(Errors.part_not_found, { id })`. The API's error body,
// the Service Bus intake's dead-letter reason, the CLI's exit code and `--json` output, and
// docs/errors.md (generated: `npm run docs:errors`) all derive from these entries.
//
// One code per idea, one status per code: a thing named in the path that does not exist is
// `*_not_found` (404); one named in the request body is `unknown_*` (422).
import type { ErrorEntry, ErrorStatus } from './coded-error.js';

type Definitions = Record<string, readonly [ErrorStatus, string]>;
type Catalogue<D extends Definitions> = { readonly [K in keyof D & string]: ErrorEntry<K, D[K][1]> };

function catalogue<const D extends Definitions>(definitions: D): Catalogue<D> {
  return Object.fromEntries(
    Object.entries(definitions).map(([code, [status, message]]) => [code, { code, status, message }]),
  ) as Catalogue<D>;
}

export const Errors = catalogue({
  // --- Requests in general
  not_found: [404, 'no {what}'],
  internal_error: [500, 'internal error; see the server log'],
  invalid_json: [400, 'the request body is not valid JSON'],
  unsupported_media_type: [415, 'send the body as JSON with "content-type: application/json"{got}'],
  invalid_request: [400, '{problems}'],
  invalid_query: [400, '{problems}'],
  invalid_path: [400, '{problems}'],
  invalid_header: [400, '{problems}'],
  invalid_idempotency_key: [400, '{problems}'],
  idempotency_key_reused: [422, 'Idempotency-Key "{key}" was used {what}; a new request needs a new key'],
  idempotency_key_in_use: [409, 'Idempotency-Key "{key}" belongs to a request that is still running; try again in {retryAfter} s'],
  invalid_last_event_id: [400, '{problems}'],
  invalid_cursor: [400, 'cursor: pass back the nextCursor of the previous page'],
  invalid_multipart: [400, '{problem}'],
  body_too_large: [413, 'the request body is larger than the limit of {limit} bytes'],
  filter_required: [400, 'give at least one of lifecycle, version, kind, step, code, olderThan, newerThan, partIds, or "all": true'],
  unauthenticated: [401, '{reason}'],
  forbidden: [403, '{reason}'],
  storage_unavailable: [503, 'blob storage did not complete the request ({reason}); try again later'],

  // --- Lifecycles
  lifecycle_not_found: [404, 'no lifecycle named "{name}"{suggestion}; see GET /lifecycles'],
  lifecycle_version_not_found: [404, 'lifecycle "{name}" has no version {version}'],
  invalid_version: [400, 'version: expected a positive integer, got "{text}"'],
  invalid_definition: [422, 'the definition has {count} problem{s}: {problems}'],
  version_exists: [409, '{name} v{version} exists with other content; versions are immutable (omit version to publish the next one)'],
  version_gap: [409, '{name}: the next version is {expected}, not {version}'],
  lifecycle_version_deprecated: [409, '{name} v{version} is deprecated: {hint}'],
  default_version_deprecation: [409, '{name} v{version} is the default; make another version the default before deprecating it'],

  // --- Parts and their events
  part_not_found: [404, 'part "{id}" not found'],
  part_exists: [409, 'part "{id}" already exists'],
  invalid_params: [422, 'params for {lifecycle} v{version}: {problems}'],
  unresolved_roles: [422, 'roles for {lifecycle} v{version}: {problems}'],
  unknown_event: [404, 'part "{id}" ({lifecycle} v{version}) awaits no event "{event}"{awaited}'],
  invalid_payload: [422, 'payload of "{event}": {problems}'],
  payload_too_large: [413, '{what} is {size} bytes as JSON, over the limit of {limit} bytes'],
  not_awaiting: [409, '{reason}'],
  event_not_allowed: [403, 'participant "{participant}" may not send "{event}" to part "{id}": {allowed}'],
  trace_too_large: [422, 'the backward trace of {id} has more than {limit} nodes; trace one of its components instead'],

  // --- Operator decisions and resets
  part_not_active: [409, 'part "{id}" {state}'],
  part_not_parked: [409, '{reason}'],
  part_completed: [409, 'part "{id}" completed (as {status}); there is nothing to repair'],
  step_not_failed: [409, '{reason}'],
  invalid_decision: [422, '{reason}'],
  invalid_reason: [422, 'reason: {problem}'],
  invalid_step_params: [422, '{problems}'],
  invalid_reset_point: [422, 'event {event} is not the end of a workflow task of run {runId}; choose one of: {choices}'],

  transaction_not_found: [404, 'no chain transaction "{key}" on this chain; see GET /ops/transactions'],
  transaction_not_pending: [409, 'chain transaction "{key}" is {status}, not pending: only a signed or sent one can be re-sent'],
  // --- Ledger actions (transfer, decommission, certificates) and the chain's refusals
  part_not_on_chain: [409, 'part "{id}" has no token on chain yet'],
  not_holder: [403, '{reason}'],
  not_a_certifier: [403, '{reason}'],
  part_is_bundled: [409, '{reason}'],
  part_is_assembled: [409, '{reason}'],
  part_decommissioned: [409, '{reason}'],
  bundle_not_empty: [409, '{reason}'],
  certificate_exists: [409, '{reason}'],
  unknown_participant: [422, '{field}: {problem}'],
  unknown_document: [422, 'document: {problem}'],
  document_not_yours: [422, '{reason}'],
  document_verification_failed: [409, '{reason}'],
  document_anchored_elsewhere: [409, '{reason}'],
  ledger_refused: [409, '{reason}'],

  // --- Participants
  participant_not_found: [404, 'no participant "{id}"'],
  participant_exists: [409, 'participant "{id}" exists already'],
  invalid_roles: [422, '{problems}; roles: {roles}'],
  api_key_not_found: [404, 'participant "{id}" has no active API key {keyId}'],

  // --- Documents
  document_not_found: [404, 'no document "{id}"'],
  document_deleted: [410, '{reason}'],
  document_content_missing: [410, '{reason}'],
  document_too_large: [413, 'the document is larger than the limit of {limit} bytes'],
  unknown_recipient: [422, '{problems}'],
  recipient_without_key: [422, 'recipients: {ids} {verb} no document key'],
  sender_without_key: [422, 'participant "{id}" has no document key, so it could not read its own document'],
  not_a_recipient: [403, 'participant "{caller}" is neither the sender nor a recipient of document {id}'],
  not_owner: [403, 'only {owner}, who sent document {id}, may delete it'],
  document_anchored: [
    409,
    'document {id} is the certificate anchored on {parts}; deleting it leaves those certificates unverifiable (add ?force=true to delete anyway)',
  ],
  // A stored document failed a check (GET /documents/:id/verify reports each one).
  metadata_invalid: [409, 'the stored document does not verify: {problem}; see GET /documents/:id/verify'],
  signature_invalid: [409, 'the stored document does not verify: {problem}; see GET /documents/:id/verify'],
  key_unwrap_failed: [409, 'the stored document does not verify: {problem}; see GET /documents/:id/verify'],
  ciphertext_tampered: [409, 'the stored document does not verify: {problem}; see GET /documents/:id/verify'],
  size_mismatch: [409, 'the stored document does not verify: {problem}; see GET /documents/:id/verify'],
  hash_mismatch: [409, 'the stored document does not verify: {problem}; see GET /documents/:id/verify'],
  index_mismatch: [409, 'the stored document does not verify: {problem}; see GET /documents/:id/verify'],

  // --- Event subscriptions
  subscription_not_found: [404, '{reason}'],
  subscription_exists: [409, 'you have a subscription named "{name}" already'],
  seq_out_of_range: [422, '{field}: {seq} is past the latest event ({latest})'],
  // A webhook URL whose host is, or resolves to, an address of a refused class (SSRF); one code per class.
  webhook_target_unspecified: [422, 'url: {problem}'],
  webhook_target_metadata: [422, 'url: {problem}'],
  webhook_target_loopback: [422, 'url: {problem}'],
  webhook_target_link_local: [422, 'url: {problem}'],
  webhook_target_private: [422, 'url: {problem}'],
  webhook_target_unique_local: [422, 'url: {problem}'],
  webhook_target_shared: [422, 'url: {problem}'],
  webhook_target_multicast: [422, 'url: {problem}'],
  webhook_target_reserved: [422, 'url: {problem}'],

  // --- Contract gateway
  contract_not_found: [404, 'no contract "{name}" is registered (see GET /contracts)'],
  method_not_found: [404, '{contract} has no function "{method}"; its functions: {methods}'],
  invalid_abi: [400, '{problems}'],
  invalid_argument: [400, '{problem}'],
  read_only_method: [400, '{signature} is {mutability}: use POST /contracts/{contract}/query/{method}'],
  insufficient_funds: [422, 'the calling participant cannot pay for the transaction (no gas money on this chain)'],
  no_result: [422, 'the call returned no data: is the contract deployed at the registered address on this chain?'],
  contract_reverted: [409, '{reason}'],

  // --- Service Bus intake (dead-letter reasons; a refused command dead-letters with its own code)
  missing_message_id: [400, 'the message has no message id, the key that keeps its effect single'],
  message_not_json: [400, 'the body is not JSON: {problem}'],
  unknown_message_type: [400, 'type: {type} is not a message type; expected one of {types}'],
  unsupported_message_version: [400, 'version: {version} is not supported for {type}; expected 1'],
  invalid_message: [400, '{problems}'],

  // --- Key stores (participants' ledger and document keys): the server's own setup, so a 500 to an
  // API client, whose request was not at fault
  missing_key: [500, '{problem}'],
  key_store_read_only: [500, '{problem}'],
  key_passphrase_wrong: [500, '{problem}'],
  invalid_key_file: [500, '{problem}'],

  // --- The CLI and its settings
  invalid_configuration: [400, '{problem}'],
  not_deployed: [409, '{problem}'],
  invalid_lifecycle_file: [422, '{problems}'],
  invalid_usage: [400, '{problem}'],
  invalid_option: [400, '{problem}'],
  api_unreachable: [503, 'cannot reach the API at {url} ({reason}); start it or pass --api'],
  api_key_missing: [401, '{command}: no API key for {url} (from {from}): {hint}'],
  api_key_refused: [401, 'the API at {url} refused the API key: {reason}; set TRACEWELL_API_KEY or --api-key to a valid key'],
  api_stream_ended: [503, 'the API ended the stream without a summary'],
});

export type ErrorCode = keyof typeof Errors;

/** Every entry, in catalogue order. */
export const ERROR_ENTRIES: readonly ErrorEntry[] = Object.values(Errors);

/** The entry for a code, e.g. one an API answer carried. */
export function entryFor(code: string): ErrorEntry | undefined {
  return Object.hasOwn(Errors, code) ? (Errors as Record<string, ErrorEntry>)[code] : undefined;
}
