// The SQL mirror. The chain is the shared truth; these tables are the fast, queryable copy that the
// activities keep up to date, plus the bookkeeping that makes chain writes idempotent (chain_txs).
import { sql } from 'drizzle-orm';
import type { CompiledLifecycle } from '../workflows/definition.js';
import type { StepStatus } from '../workflows/types.js';
import {
  bigint,
  boolean,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

/**
 * A company taking part. Its keys live in the key store, addressed by reference, so SQL holds no
 * secrets: `keyRef` signs its ledger transactions (`address`), `documentKeyRef` opens documents
 * encrypted to `documentPublicKey`.
 */
export const participants = pgTable('participants', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  roles: text('roles')
    .array()
    .notNull()
    .default(sql`'{}'::text[]`),
  address: text('address').notNull().unique(),
  keyRef: text('key_ref').notNull(),
  documentKeyRef: text('document_key_ref'),
  documentPublicKey: text('document_public_key'),
  createdAt: createdAt(),
});

/**
 * API keys: each acts as one participant. Only the SHA-256 of the key is kept (the keys are 256-bit
 * random, so a fast hash is enough); `prefix` lets a participant tell its keys apart.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: serial('id').primaryKey(),
    participantId: text('participant_id')
      .notNull()
      .references(() => participants.id),
    keyHash: text('key_hash').notNull().unique(),
    prefix: text('prefix').notNull(),
    label: text('label'),
    createdAt: createdAt(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [index('api_keys_participant_idx').on(t.participantId)],
);

/** `parked`: a step failed and the part waits for an operator. */
export type PartStatus = 'active' | 'parked' | 'completed' | 'failed' | 'aborted';

/** Statuses after which a part takes no more events or operator decisions (only a reset). */
export const ENDED_PART_STATUSES: ReadonlySet<PartStatus> = new Set(['completed', 'failed', 'aborted']);

/** One traced part; `id` is also its workflow id, `tokenId` its ERC-721 id (decimal string). */
export const parts = pgTable(
  'parts',
  {
    id: text('id').primaryKey(),
    tokenId: text('token_id').notNull(),
    lifecycle: text('lifecycle').notNull(),
    lifecycleVersion: integer('lifecycle_version').notNull(),
    status: text('status').$type<PartStatus>().notNull(),
    ownerId: text('owner_id').references(() => participants.id),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    /** The parameters the part was started with (declared by its lifecycle). */
    params: jsonb('params').$type<Record<string, unknown>>().notNull().default({}),
    /** The participant whose API request started the part. */
    createdBy: text('created_by'),
    /** Which participant plays each role the part's steps name without a participant (bound at start). */
    roles: jsonb('roles').$type<Record<string, string>>().notNull().default({}),
    /** Set when the holder took the part out of circulation on chain. */
    decommissionedAt: timestamp('decommissioned_at', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('parts_owner_idx').on(t.ownerId), index('parts_status_idx').on(t.status), index('parts_token_idx').on(t.tokenId)],
);

/**
 * Published lifecycle definitions. A version is immutable: `definition` is what the process engineer
 * wrote, `compiled` what every part started on this version runs.
 */
export const lifecycleDefinitions = pgTable(
  'lifecycle_definitions',
  {
    name: text('name').notNull(),
    version: integer('version').notNull(),
    contentHash: text('content_hash').notNull(),
    definition: jsonb('definition').$type<Record<string, unknown>>().notNull(),
    compiled: jsonb('compiled').$type<CompiledLifecycle>().notNull(),
    /** Where it came from: a file name under lifecycles/, or `api`. */
    source: text('source').notNull(),
    /** Set when a process engineer deprecated the version: no new part starts on it, running ones finish. */
    deprecatedAt: timestamp('deprecated_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.name, t.version] })],
);

/**
 * The version new parts of each lifecycle start on, when their request names none. Kept apart from
 * the versions so "latest" and "default" are two facts: publishing makes new content the default,
 * and a process engineer may point it back at any version that is not deprecated.
 */
export const lifecycleDefaults = pgTable(
  'lifecycle_defaults',
  {
    name: text('name').primaryKey(),
    version: integer('version').notNull(),
    /** Who set it: `publish`, or the participant / `admin` that chose it. */
    setBy: text('set_by').notNull(),
    updatedAt: updatedAt(),
  },
  (t) => [foreignKey({ columns: [t.name, t.version], foreignColumns: [lifecycleDefinitions.name, lifecycleDefinitions.version] })],
);

/** One execution of one lifecycle step for one part. */
export const stepRuns = pgTable(
  'step_runs',
  {
    partId: text('part_id')
      .notNull()
      .references(() => parts.id),
    stepId: text('step_id').notNull(),
    position: integer('position').notNull(),
    kind: text('kind').notNull(),
    status: text('status').$type<StepStatus>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastErrorCode: text('last_error_code'),
    lastErrorMessage: text('last_error_message'),
    txHash: text('tx_hash'),
    /** The last transaction the step signed, kept when it fails: ops can see whether it landed. */
    lastTxHash: text('last_tx_hash'),
    output: jsonb('output').$type<Record<string, unknown>>(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    updatedAt: updatedAt(),
  },
  (t) => [
    primaryKey({ columns: [t.partId, t.stepId] }),
    index('step_runs_status_idx').on(t.status),
    // The ops failure list reads failed steps oldest first.
    index('step_runs_failed_idx')
      .on(t.finishedAt, t.partId)
      .where(sql`status = 'failed'`),
  ],
);

/** `resend_tx`: a pending chain transaction sent again with higher fees (`before`/`after` name it). */
export type OperatorActionKind = 'retry' | 'skip' | 'abort' | 'reset' | 'resend_tx';

/**
 * The audit trail of operator actions on parts: who did what, when, why, and the state before and
 * after. `requestId` (the workflow update id, or the reset request id) makes each write idempotent.
 */
export const operatorActions = pgTable(
  'operator_actions',
  {
    id: serial('id').primaryKey(),
    requestId: text('request_id').notNull().unique(),
    /** The part acted on; for `resend_tx`, a part the transaction carries (null when it carries none). */
    partId: text('part_id').references(() => parts.id),
    stepId: text('step_id'),
    action: text('action').$type<OperatorActionKind>().notNull(),
    actor: text('actor').notNull(),
    reason: text('reason'),
    before: jsonb('before').$type<Record<string, unknown>>().notNull(),
    after: jsonb('after').$type<Record<string, unknown>>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('operator_actions_part_idx').on(t.partId, t.id)],
);

/**
 * Custody history: every change of holder, from the chain's Transfer events. The addresses are the
 * truth; the participant ids are filled in when the address belongs to a known participant.
 */
export const ownership = pgTable(
  'ownership',
  {
    id: serial('id').primaryKey(),
    partId: text('part_id').notNull(),
    fromId: text('from_id').references(() => participants.id),
    toId: text('to_id').references(() => participants.id),
    fromAddress: text('from_address'),
    toAddress: text('to_address'),
    txHash: text('tx_hash').notNull(),
    blockNumber: text('block_number'),
    at: timestamp('at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('ownership_part_tx_idx').on(t.partId, t.txHash),
    // Custody of a set of parts, in order: found and ordered by one index (provenance traces).
    index('ownership_part_order_idx').on(t.partId, t.id),
  ],
);

/**
 * Every PartRegistry event, once (by chain, transaction and log index), mirrored by the ledger
 * listener in chain order: `id` is the event's sequence number, which streams deliver and
 * subscribers acknowledge. Each row keeps the raw log (topics, data, block hash) next to its decoded
 * form, and is hash-chained per contract: `hash` covers the row's content and `prevHash`, so a row
 * edited, inserted or deleted by hand breaks the chain (`tracewell verify`).
 */
export const ledgerEvents = pgTable(
  'ledger_events',
  {
    id: serial('id').primaryKey(),
    chainId: integer('chain_id').notNull(),
    /** The contract that emitted the event (checksummed). */
    address: text('address').notNull(),
    blockNumber: bigint('block_number', { mode: 'number' }).notNull(),
    blockHash: text('block_hash').notNull(),
    logIndex: integer('log_index').notNull(),
    txHash: text('tx_hash').notNull(),
    topics: text('topics').array().notNull(),
    data: text('data').notNull(),
    name: text('name').notNull(),
    partIds: text('part_ids').array().notNull(),
    /** The known participants the event names (holder, sender, receiver, issuer, …). */
    participantIds: text('participant_ids').array().notNull(),
    args: jsonb('args').$type<Record<string, unknown>>().notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
    /** When the row was written: the mirror's lag is this minus the block's time. */
    mirroredAt: timestamp('mirrored_at', { withTimezone: true }).defaultNow().notNull(),
  },
  (t) => [
    uniqueIndex('ledger_events_log_idx').on(t.chainId, t.txHash, t.logIndex),
    index('ledger_events_parts_idx').using('gin', t.partIds),
    index('ledger_events_participants_idx').using('gin', t.participantIds),
    index('ledger_events_contract_block_idx').on(t.chainId, t.address, t.blockNumber),
  ],
);

/**
 * Where the ledger listener is, per contract: the last block mirrored and its hash. A pass starts
 * after it; a hash that no longer matches the chain's is a reorganisation.
 */
export const ledgerCursors = pgTable(
  'ledger_cursors',
  {
    chainId: integer('chain_id').notNull(),
    address: text('address').notNull(),
    /** The first block the listener reads (the contract's deployment block). */
    startBlock: bigint('start_block', { mode: 'number' }).notNull(),
    blockNumber: bigint('block_number', { mode: 'number' }).notNull(),
    /** Null before the first block is mirrored. */
    blockHash: text('block_hash'),
    /** The chain head the last pass saw. */
    headBlock: bigint('head_block', { mode: 'number' }),
    /** The last failed pass (RPC or SQL down), until a pass succeeds again; `failures` in a row. */
    lastError: text('last_error'),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
    failures: integer('failures').notNull().default(0),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.address] })],
);

/** Reorganisations the listener found and undid: the mirror from `fromBlock` on was rolled back and re-read. */
export const ledgerReorgs = pgTable('ledger_reorgs', {
  id: serial('id').primaryKey(),
  chainId: integer('chain_id').notNull(),
  address: text('address').notNull(),
  /** First block whose mirrored events were rolled back (the common ancestor + 1). */
  fromBlock: bigint('from_block', { mode: 'number' }).notNull(),
  /** The cursor's block when the reorganisation was found. */
  toBlock: bigint('to_block', { mode: 'number' }).notNull(),
  removedEvents: integer('removed_events').notNull(),
  /** The removed events (sequence number, transaction, log index, name), for whoever consumed them. */
  removed: jsonb('removed').$type<{ seq: number; txHash: string; logIndex: number; name: string; blockNumber: number }[]>().notNull(),
  detectedAt: timestamp('detected_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Stream entries telling subscribers that a reorganisation took back an event they may have received:
 * one per removed `ledger_events` row, with that row's content (so the same filters match it) and its
 * sequence number as `removed_seq`. The entry's own `id` comes from the `ledger_events` sequence, so
 * it sits in the one ordered log every stream reads after its cursor: after the removed event, before
 * anything the new chain brings. Not part of the hash chain: the mirror is the chain as it is now.
 */
export const ledgerRemovals = pgTable(
  'ledger_removals',
  {
    id: integer('id')
      .primaryKey()
      .default(sql`nextval('ledger_events_id_seq')`),
    chainId: integer('chain_id').notNull(),
    address: text('address').notNull(),
    /** The removed event's sequence number. */
    removedSeq: integer('removed_seq').notNull(),
    reorgId: integer('reorg_id')
      .notNull()
      .references(() => ledgerReorgs.id),
    blockNumber: bigint('block_number', { mode: 'number' }).notNull(),
    blockHash: text('block_hash').notNull(),
    logIndex: integer('log_index').notNull(),
    txHash: text('tx_hash').notNull(),
    name: text('name').notNull(),
    partIds: text('part_ids').array().notNull(),
    participantIds: text('participant_ids').array().notNull(),
    args: jsonb('args').$type<Record<string, unknown>>().notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    removedAt: timestamp('removed_at', { withTimezone: true }).defaultNow().notNull(),
  },
  (t) => [index('ledger_removals_contract_idx').on(t.chainId, t.address, t.id)],
);

/**
 * The mirror's hash-chain head as recorded on chain: after sequence number `seq` the head was
 * `head`, anchored by transaction `txHash`. Kept here to pace the anchoring; `verify` reads the
 * anchors from the chain itself, never from this table.
 */
export const mirrorAnchors = pgTable(
  'mirror_anchors',
  {
    id: serial('id').primaryKey(),
    chainId: integer('chain_id').notNull(),
    address: text('address').notNull(),
    seq: integer('seq').notNull(),
    head: text('head').notNull(),
    /** Null when the head was found on chain already (anchored by an earlier attempt). */
    txHash: text('tx_hash'),
    blockNumber: bigint('block_number', { mode: 'number' }),
    anchoredAt: timestamp('anchored_at', { withTimezone: true }).defaultNow().notNull(),
  },
  (t) => [uniqueIndex('mirror_anchors_seq_idx').on(t.chainId, t.address, t.seq)],
);

export type SubscriptionKind = 'webhook' | 'websocket';
export type SubscriptionStatus = 'active' | 'dead';

/** Which ledger events a subscription wants; an empty or missing list matches everything. */
export interface EventFilter {
  events?: string[];
  parts?: string[];
  participant?: string;
}

/**
 * A durable event stream: a filter over the ledger events and a cursor (the last sequence number
 * delivered and acknowledged). Webhooks push to a URL with retries and a signature; WebSocket
 * subscriptions resume after their last acknowledgement on reconnect.
 */
export const eventSubscriptions = pgTable(
  'event_subscriptions',
  {
    id: uuid('id').primaryKey(),
    ownerId: text('owner_id')
      .notNull()
      .references(() => participants.id),
    name: text('name').notNull(),
    kind: text('kind').$type<SubscriptionKind>().notNull(),
    filter: jsonb('filter').$type<EventFilter>().notNull(),
    /** Events with a sequence number above this one are still to be delivered. */
    cursor: bigint('cursor', { mode: 'number' }).notNull(),
    status: text('status').$type<SubscriptionStatus>().notNull().default('active'),
    url: text('url'),
    /**
     * The webhook's signing secret, sealed (`enc:v1:…`, AES-256-GCM under WEBHOOK_SECRETS_KEY, a key
     * never stored here); rows from before encryption are sealed at the next start.
     */
    secret: text('secret'),
    /** Failed attempts at the event after the cursor, since its last success. */
    failures: integer('failures').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    lastError: text('last_error'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [uniqueIndex('event_subscriptions_owner_name_idx').on(t.ownerId, t.name)],
);

/** Every webhook attempt: which event, which try, the receiver's status code or the error. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: serial('id').primaryKey(),
    subscriptionId: uuid('subscription_id')
      .notNull()
      .references(() => eventSubscriptions.id, { onDelete: 'cascade' }),
    eventSeq: integer('event_seq').notNull(),
    attempt: integer('attempt').notNull(),
    statusCode: integer('status_code'),
    error: text('error'),
    durationMs: integer('duration_ms').notNull(),
    delivered: boolean('delivered').notNull(),
    at: createdAt(),
  },
  (t) => [
    index('webhook_deliveries_subscription_idx').on(t.subscriptionId, t.id),
    index('webhook_deliveries_event_idx').on(t.subscriptionId, t.eventSeq),
    // The retention prune finds old rows by age.
    index('webhook_deliveries_at_idx').on(t.at),
  ],
);

export type PartLinkKind = 'component' | 'source' | 'content';

/**
 * What parts are made of, as a graph: `component` (consumed by assembly), `source` (a lot a part was
 * derived from, not consumed) and `content` (in a bundle until `unlinkedTx`). Provenance queries walk
 * it with recursive SQL: backward from `parentId`, forward from `childId`.
 */
export const partLinks = pgTable(
  'part_links',
  {
    id: serial('id').primaryKey(),
    parentId: text('parent_id').notNull(),
    childId: text('child_id').notNull(),
    kind: text('kind').$type<PartLinkKind>().notNull(),
    linkedTx: text('linked_tx').notNull(),
    linkedAt: timestamp('linked_at', { withTimezone: true }).notNull(),
    unlinkedTx: text('unlinked_tx'),
    unlinkedAt: timestamp('unlinked_at', { withTimezone: true }),
  },
  (t) => [uniqueIndex('part_links_link_idx').on(t.parentId, t.childId, t.kind, t.linkedTx), index('part_links_child_idx').on(t.childId)],
);

/** Certificates anchored on chain: the document hash, its kind, who issued it and until when. */
export const certificates = pgTable(
  'certificates',
  {
    partId: text('part_id').notNull(),
    documentHash: text('document_hash').notNull(),
    kind: text('kind').notNull(),
    issuerAddress: text('issuer_address').notNull(),
    issuerId: text('issuer_id').references(() => participants.id),
    validUntil: timestamp('valid_until', { withTimezone: true }),
    txHash: text('tx_hash').notNull(),
    attachedAt: timestamp('attached_at', { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.partId, t.documentHash] }), index('certificates_document_hash_idx').on(t.documentHash)],
);

/**
 * signed: stored, maybe not yet broadcast; sent: broadcast, no receipt yet; mined: receipt seen
 * (success); reverted: mined and reverted; replaced: another transaction took its nonce (a fee bump,
 * or someone else's); lost: its receipt was seen and then vanished (a reorg, a node that lost blocks).
 */
export type ChainTxStatus = 'signed' | 'sent' | 'mined' | 'reverted' | 'replaced' | 'lost';

/**
 * Every signed transaction, stored before it is broadcast so a crash anywhere finds these exact
 * bytes. A transaction carries one write intent (then `key` is the intent's key, e.g.
 * `mint:<partId>`) or a batch of them (`items` > 1; the intents point at it through `tx_key`).
 * A fee bump is a new row with the same nonce and `attempts` + 1; the row it replaces is `replaced`.
 */
export const chainTxs = pgTable(
  'chain_txs',
  {
    key: text('key').primaryKey(),
    /** The part and step whose activity made the write, when one did (single-intent transactions). */
    partId: text('part_id'),
    stepId: text('step_id'),
    chainId: integer('chain_id').notNull(),
    fromAddress: text('from_address').notNull(),
    nonce: integer('nonce').notNull(),
    txHash: text('tx_hash').notNull(),
    rawTx: text('raw_tx').notNull(),
    status: text('status').$type<ChainTxStatus>().notNull(),
    blockNumber: text('block_number'),
    /** The block the receipt was seen in, to notice when it is no longer on the canonical chain. */
    blockHash: text('block_hash'),
    /** How many intents the transaction carries. */
    items: integer('items').notNull().default(1),
    /** 1 for the first signing of this nonce, 2 after one fee bump or re-send, ... */
    attempts: integer('attempts').notNull().default(1),
    /** EIP-1559 fees it was signed with (wei, decimal), the base for a bump. */
    maxFeePerGas: text('max_fee_per_gas'),
    maxPriorityFeePerGas: text('max_priority_fee_per_gas'),
    /** When it was (last) broadcast; the stuck-transaction threshold counts from here. */
    sentAt: timestamp('sent_at', { withTimezone: true }),
    /** The key of the transaction that took its nonce, once `replaced`. */
    replacedBy: text('replaced_by'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('chain_txs_step_idx').on(t.partId, t.stepId),
    index('chain_txs_sender_idx').on(t.chainId, t.fromAddress, t.nonce),
    index('chain_txs_status_idx').on(t.status),
  ],
);

/** queued: waiting for its signer's leader; sent: in a transaction not yet mined (with the
 * confirmations); done: its effect is on chain; failed: it would revert (or did), `error` says why. */
export type ChainIntentStatus = 'queued' | 'sent' | 'done' | 'failed';

/**
 * A write intent: what an activity (or the contract gateway) wants the chain to do, keyed by a
 * deterministic idempotency key and stored durably before anything is signed. Each signer's one
 * leader (any process) batches its queued intents into transactions (`tx_key`, `item_index`), and
 * the submitter waits for the intent's own outcome.
 */
export const chainIntents = pgTable(
  'chain_intents',
  {
    key: text('key').primaryKey(),
    chainId: integer('chain_id').notNull(),
    /** The signing address; its leader assigns nonces. */
    signer: text('signer').notNull(),
    toAddress: text('to_address').notNull(),
    data: text('data').notNull(),
    value: text('value').notNull().default('0'),
    partId: text('part_id'),
    stepId: text('step_id'),
    status: text('status').$type<ChainIntentStatus>().notNull(),
    /** False when its submitter needs the transaction's own logs (the contract gateway): never batched. */
    batchable: boolean('batchable').notNull().default(true),
    /** The transaction carrying it (chain_txs.key) and its position in that transaction's batch. */
    txKey: text('tx_key'),
    itemIndex: integer('item_index'),
    /** Why it failed: the contract error's name and arguments (and its raw revert data), or a message. */
    error: jsonb('error').$type<{ name?: string; args?: unknown[]; message: string; data?: string; txHash?: string }>(),
    /** How many times it was queued (a retried step re-queues a failed intent). */
    attempts: integer('attempts').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('chain_intents_queue_idx').on(t.chainId, t.signer, t.status, t.createdAt),
    index('chain_intents_tx_idx').on(t.txKey),
    index('chain_intents_step_idx').on(t.partId, t.stepId),
  ],
);

/** Where each contract lives on each chain, so a restart reuses the deployment. */
export const contractDeployments = pgTable(
  'contract_deployments',
  {
    chainId: integer('chain_id').notNull(),
    name: text('name').notNull(),
    address: text('address').notNull(),
    txHash: text('tx_hash').notNull(),
    bytecodeHash: text('bytecode_hash').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.name] })],
);

/**
 * The index of the document vault. Each row is one stored version of `/{owner}/{folder}/{name}`,
 * kept in blob storage as ciphertext whose metadata (hash, signature, sealed keys) is the truth;
 * this table finds documents by path, hash and recipient. `verifiedEtag` is the blob's ETag when
 * this service last recomputed its hash (at upload, or by a full verification): while the blob keeps
 * that ETag it has not changed. A deleted version keeps its row (its hash may be anchored on chain).
 */
export const documents = pgTable(
  'documents',
  {
    id: uuid('id').primaryKey(),
    /** Upload order, for stable pages. */
    seq: serial('seq').notNull().unique(),
    owner: text('owner')
      .notNull()
      .references(() => participants.id),
    folder: text('folder').notNull(),
    name: text('name').notNull(),
    version: integer('version').notNull(),
    kind: text('kind').notNull(),
    hash: text('hash').notNull(),
    size: bigint('size', { mode: 'number' }).notNull(),
    storedSize: bigint('stored_size', { mode: 'number' }).notNull(),
    contentType: text('content_type').notNull(),
    /** Participant ids the sender sealed the document to (the sender can always open it too). */
    recipients: jsonb('recipients').$type<string[]>().notNull(),
    blobName: text('blob_name').notNull(),
    verifiedEtag: text('verified_etag'),
    signedAt: timestamp('signed_at', { withTimezone: true }).notNull(),
    createdAt: createdAt(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    deletedBy: text('deleted_by'),
  },
  (t) => [
    uniqueIndex('documents_path_version_idx').on(t.owner, t.folder, t.name, t.version),
    index('documents_hash_idx').on(t.hash),
    index('documents_recipients_idx').using('gin', t.recipients),
  ],
);

export type IntakeStatus = 'applying' | 'applied' | 'dead-lettered';

/**
 * Every Service Bus intake message by its idempotency key (the message id, or the original id of a
 * resubmitted one): `applying` once its effect is under way, then applied, or dead-lettered with the
 * reason. A redelivered or duplicated message whose key is `applied` is completed without a second effect.
 */
export const intakeMessages = pgTable(
  'intake_messages',
  {
    messageId: text('message_id').primaryKey(),
    type: text('type'),
    partId: text('part_id'),
    participantId: text('participant_id'),
    status: text('status').$type<IntakeStatus>().notNull(),
    reason: text('reason'),
    description: text('description'),
    result: jsonb('result').$type<Record<string, unknown>>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index('intake_messages_part_idx').on(t.partId)],
);

/** How far each Service Bus topic has been sent the mirrored ledger events (the last sequence number). */
export const topicCursors = pgTable('topic_cursors', {
  topic: text('topic').primaryKey(),
  cursor: bigint('cursor', { mode: 'number' }).notNull(),
  updatedAt: updatedAt(),
});

/**
 * Contracts reachable through the REST gateway (`/contracts/:name/…`): a name, where the contract
 * lives, and its ABI, from which the gateway builds its routes and OpenAPI document.
 */
export const gatewayContracts = pgTable('gateway_contracts', {
  name: text('name').primaryKey(),
  chainId: integer('chain_id').notNull(),
  address: text('address').notNull(),
  abi: jsonb('abi').$type<unknown[]>().notNull(),
  registeredBy: text('registered_by').notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * What the last `tracewell deploy` set up on each chain. Worker, API, listener and intake processes
 * compare it with what they would deploy and refuse to start when it is missing or out of date.
 */
export const deployments = pgTable('deployments', {
  chainId: integer('chain_id').primaryKey(),
  partRegistry: text('part_registry').notNull(),
  /** keccak256 of the PartRegistry bytecode this build deploys; null when PART_REGISTRY_ADDRESS named an external one. */
  registryBytecodeHash: text('registry_bytecode_hash'),
  /** The last migration applied, by its journal tag. */
  schemaTag: text('schema_tag').notNull(),
  /** sha256 of the participants file and of the lifecycle files that were seeded. */
  participantsHash: text('participants_hash').notNull(),
  lifecyclesHash: text('lifecycles_hash').notNull(),
  /** The package version of the `tracewell` that deployed. */
  version: text('version').notNull(),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
});

/**
 * The Idempotency-Keys each participant has used, with a fingerprint of the request that first
 * used each (SHA-256 of method, path and canonical body): a key sent again with another request is
 * refused (`idempotency_key_reused`), not answered with the first request's result. Kept as long as
 * the actions' own deduplication (Temporal update ids, chain write keys), which is for good.
 *
 * The row is inserted before the work starts, so it is also the reservation: `holder` names the
 * request doing the work until `lockedUntil` (renewed while it runs; a crashed holder's lapses and
 * the key is free again). Once the work succeeds its response is stored and every repeat replays it.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    participantId: text('participant_id').notNull(),
    key: text('key').notNull(),
    fingerprint: text('fingerprint').notNull(),
    method: text('method').notNull(),
    path: text('path').notNull(),
    /** The request that holds the key while it works (null when none does). */
    holder: text('holder'),
    /** When the holder's reservation lapses unless renewed (null when none holds it). */
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    /** The first successful response, replayed to every repeat (null until there is one). */
    responseStatus: integer('response_status'),
    responseContentType: text('response_content_type'),
    responseBody: text('response_body'),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [primaryKey({ columns: [t.participantId, t.key] })],
);
