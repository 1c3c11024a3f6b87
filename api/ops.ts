// /ops: the failed steps ops work on, and retrying many of them at once (e.g. after a chain outage).
import { z } from '@hono/zod-openapi';
import type { TypedResponse } from 'hono';
import { stream } from 'hono/streaming';
import { countFailures, listFailures } from '../db/failed-steps.js';
import type { FailureCursor, FailureFilter, FailureRow } from '../db/failed-steps.js';
import { mirrorStatus } from '../domain/mirror/mirror-status.js';
import { verifyMirror } from '../domain/mirror/verify.js';
import { listTransactions, resendTransaction } from '../domain/chain/transaction-ops.js';
import { checkOperatorReason } from '../domain/commands/operator-reason.js';
import { retryFailures } from '../domain/commands/bulk-retry.js';
import { PART_ID_PATTERN, STEP_KINDS } from '../workflows/definition.js';
import type { ApiDeps } from './deps.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { actingParticipant, API_ROLES, roleRequired } from './auth.js';
import { apiRouter, errors, jsonBody, jsonResponse, route } from './openapi.js';
import { boundedDuration, versionNumber, versionQuery } from './input-limits.js';

const duration = (description: string) =>
  boundedDuration()
    .optional()
    .openapi({ description: `${description}: e.g. 500ms, 30s, 5m, 1h, 2d (a bare number is milliseconds; at most 3650d)`, example: '1h' });

/** The filter of GET /ops/failures (query string) and POST /ops/failures/retry (body). */
const filterFields = {
  lifecycle: z.string().min(1).optional().openapi({ description: 'The lifecycle definition', example: 'part-basic' }),
  version: versionQuery().optional().openapi({ description: 'Its version' }),
  kind: z.enum(STEP_KINDS).optional().openapi({ description: 'Step kind' }),
  step: z.string().min(1).optional().openapi({ description: 'Step id', example: 'ship' }),
  code: z.string().min(1).optional().openapi({ description: 'Error code', example: 'HttpRequestError' }),
  olderThan: duration('Failed at least this long ago'),
  newerThan: duration('Failed at most this long ago'),
};

const listQuery = z
  .object({
    ...filterFields,
    status: z
      .enum(['parked', 'failed', 'all'])
      .default('parked')
      .openapi({ description: 'Parked parts wait for an operator; failed ones ended' }),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().optional().openapi({ description: 'The `nextCursor` of the previous page' }),
  })
  .strict();

const bulkRetryBody = z
  .object({
    ...filterFields,
    version: versionNumber().optional().openapi({ description: 'Its version' }),
    partIds: z.array(z.string().regex(PART_ID_PATTERN)).min(1).max(10_000).optional().openapi({ description: 'Only these parts' }),
    /** Required with no other criterion, so an empty body never retries everything by accident. */
    all: z.literal(true).optional().openapi({ description: 'Every parked failure: required when no other criterion is given' }),
    reason: z.string().min(1).max(1000).optional().openapi({ description: 'Why, for the audit trail' }),
    max: z.number().int().min(1).max(10_000).default(1000).openapi({ description: 'At most this many failures' }),
  })
  .strict()
  .openapi('BulkRetry');

const verifyQuery = z
  .object({
    maxDrift: z.coerce.number().int().min(1).max(100_000).default(1000).openapi({ description: 'Stop listing drift after this many' }),
  })
  .strict();

const LedgerRefSchema = z.object({ chainId: z.number().int(), address: z.string() });

const VerifyReportSchema = z
  .object({
    ok: z.boolean(),
    ledger: LedgerRefSchema,
    cursor: z.number().int().nullable().openapi({ description: "The listener's cursor: the chain is compared up to this block" }),
    rows: z.number().int(),
    chainLogs: z.number().int(),
    blocks: z.object({ from: z.number().int(), to: z.number().int() }).nullable(),
    drift: z.array(
      z.object({
        kind: z.enum([
          'hash_mismatch',
          'chain_broken',
          'missing',
          'extra',
          'different',
          'projection',
          'anchor_mismatch',
          'step_tx_missing',
        ]),
        partId: z.string().optional().openapi({ description: '`step_tx_missing`: the part whose step recorded the transaction' }),
        stepId: z.string().optional().openapi({ description: '`step_tx_missing`: the step that recorded it' }),
        seq: z.number().int().optional().openapi({ description: "The mirrored row's sequence number (absent for a log the mirror lacks)" }),
        blockNumber: z.number().int().openapi({ description: '`step_tx_missing`: the block recorded for the transaction, -1 if none' }),
        logIndex: z.number().int().openapi({ description: '-1 for `step_tx_missing`' }),
        txHash: z.string(),
        message: z.string(),
        fields: z.array(z.object({ field: z.string(), mirror: z.unknown(), chain: z.unknown() })).optional(),
      }),
    ),
    anchor: z
      .object({
        seq: z.number().int().openapi({ description: 'The sequence number whose head the chain holds' }),
        head: z.string().openapi({ description: 'The head read from the chain' }),
        txHash: z.string(),
        blockNumber: z.number().int(),
        logIndex: z.number().int(),
        matches: z.boolean().openapi({ description: 'The rows recomputed up to `seq` give this head' }),
      })
      .nullable()
      .openapi({ description: "The newest anchor of the mirror's hash-chain head on chain; null before the first" }),
    stepTransactions: z
      .number()
      .int()
      .openapi({ description: 'Transactions steps recorded, checked to be on chain, successful, in their recorded block' }),
    truncated: z.boolean().openapi({ description: 'More drift was found than the report lists' }),
    durationMs: z.number(),
  })
  .openapi('VerifyReport');

const MirrorStatusSchema = z
  .object({
    ledger: LedgerRefSchema,
    cursor: z
      .object({ blockNumber: z.number().int(), blockHash: z.string().nullable(), updatedAt: z.string() })
      .nullable()
      .openapi({ description: 'The last block mirrored' }),
    head: z.number().int().nullable().openapi({ description: 'The chain head now; null when the node does not answer' }),
    blocksBehind: z.number().int().nullable(),
    events: z.number().int(),
    lastMirroredAt: z.string().nullable(),
    reorgs: z.array(
      z.object({ fromBlock: z.number().int(), toBlock: z.number().int(), removedEvents: z.number().int(), detectedAt: z.string() }),
    ),
    lastError: z.object({ message: z.string(), at: z.string().nullable(), failures: z.number().int() }).nullable(),
    chainError: z.string().optional().openapi({ description: 'Why `head` is null' }),
  })
  .openapi('MirrorStatus');

const OPS_ACTIONS = ['retry', 'skip', 'abort', 'reset'] as const;

const FailureSchema = z
  .object({
    partId: z.string(),
    lifecycle: z.object({ name: z.string(), version: z.number().int() }),
    partStatus: z.string().openapi({ description: 'parked or failed' }),
    step: z.object({ id: z.string(), kind: z.string() }),
    error: z.object({ code: z.string().nullable(), message: z.string().nullable() }),
    attempts: z.number().int(),
    lastTxHash: z.string().nullable(),
    failedAt: z.string().nullable(),
    ageSeconds: z.number().int().nullable(),
    actions: z.array(z.enum(OPS_ACTIONS)).openapi({ description: 'What ops can do: decide on a parked step, or reset a failed part' }),
  })
  .openapi('Failure');

const FailurePageSchema = z
  .object({
    failures: z.array(FailureSchema),
    total: z.number().int().openapi({ description: 'Every failure matching the filter' }),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last' }),
  })
  .openapi('FailurePage');

const notRetried = z.object({
  partId: z.string(),
  stepId: z.string(),
  outcome: z.enum(['skipped', 'error']),
  code: z.string(),
  message: z.string(),
});
const BulkRetrySummarySchema = z
  .object({
    matched: z.number().int(),
    retried: z.number().int(),
    skipped: z.number().int().openapi({ description: 'No longer parked on that step' }),
    errors: z.number().int(),
    notRetried: z.array(notRetried).openapi({ description: 'Every failure that was not retried, with why' }),
  })
  .openapi('BulkRetrySummary');
const BulkRetryLineSchema = z
  .union([
    z.object({
      type: z.literal('progress'),
      done: z.number().int(),
      total: z.number().int(),
      partId: z.string(),
      stepId: z.string(),
      outcome: z.enum(['retried', 'skipped', 'error']),
      code: z.string().optional(),
      message: z.string().optional(),
    }),
    BulkRetrySummarySchema.extend({ type: z.literal('summary') }),
    z.object({ type: z.literal('error'), code: z.string(), message: z.string() }),
  ])
  .openapi('BulkRetryLine', {
    description: 'One line of the NDJSON stream: a progress line per part, then the summary (or an error that stopped the batch)',
  });

/** Text that reaches SQL: no control characters (PostgreSQL text cannot hold a NUL). */
const plainText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u001f\u007f]+$/, 'no control characters');

const transactionsQuery = z
  .object({
    status: z.enum(['pending', 'stuck', 'lost', 'all']).default('pending').openapi({
      description:
        'pending: signed or sent, not mined (re-sent ones included); stuck: pending longer than `stuckAfter`; lost: its nonce went to another transaction; all: these and the attempts replaced by a re-send',
    }),
    signer: plainText(200).optional().openapi({ description: 'A participant id or a signing address', example: 'acme-foundry' }),
    stuckAfter: boundedDuration()
      .default(60_000)
      .openapi({ description: 'Pending longer than this is stuck (default 60s)', example: '60s' }),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

const TransactionSchema = z
  .object({
    key: z.string().openapi({ description: 'The idempotency key it was stored under; a re-send is `<key>#<attempt>`' }),
    status: z.enum(['signed', 'sent', 'mined', 'reverted', 'replaced', 'lost']),
    stuck: z.boolean().openapi({ description: 'Pending longer than `stuckAfter`' }),
    ageSeconds: z.number().int().openapi({ description: 'Since it was last sent (or signed)' }),
    signer: z.object({ participantId: z.string().nullable(), address: z.string() }),
    nonce: z.number().int(),
    attempts: z.number().int().openapi({ description: '1 for the first signing of its nonce, 2 after one re-send, ...' }),
    txHash: z.string(),
    replacedBy: z.string().nullable().openapi({ description: 'The attempt that replaced it' }),
    blockNumber: z.string().nullable(),
    sentAt: z.string().nullable(),
    items: z.object({
      count: z.number().int().openapi({ description: 'Write intents it carries' }),
      parts: z.array(z.object({ partId: z.string(), stepId: z.string().nullable(), intent: z.string().nullable() })),
    }),
  })
  .openapi('ChainTransaction');

const TransactionListSchema = z.object({ transactions: z.array(TransactionSchema) }).openapi('ChainTransactionList');

const resendBody = z
  .object({ reason: z.string().min(1).openapi({ description: 'Why, for the audit trail (operator_actions)' }) })
  .strict()
  .openapi('ResendTransaction');

const ResendResultSchema = z
  .object({
    requestId: z.string().openapi({ description: 'The operator action recorded' }),
    resent: z.boolean().openapi({
      description: "Re-signed with higher fees at once (this process holds the signer's key); else the signer's next heal pass does it",
    }),
    transaction: TransactionSchema.openapi({ description: 'The newest attempt at its nonce' }),
  })
  .openapi('ResendResult');

const tags = ['Ops'];

const routes = {
  transactions: route({
    method: 'get',
    path: '/transactions',
    tags,
    summary: 'Pending, re-sent, stuck and lost chain transactions, newest first (operator only)',
    description: 'Operator only. Each with its age, signer, nonce, attempts, hash and the parts and steps it carries.',
    request: { query: transactionsQuery },
    responses: {
      200: jsonResponse(TransactionListSchema, 'The transactions'),
      ...errors(400, 401, 403, [404, 'No such participant (signer)']),
    },
  }),
  resend: route({
    method: 'post',
    path: '/transactions/{key}/resend',
    tags,
    summary: 'Re-send a pending chain transaction now, with higher fees (operator only)',
    description:
      'Operator only. Recorded in the audit trail with its reason first. The transaction is re-signed at its nonce with both EIP-1559 fees bumped, as attempt `<key>#<n>`; whichever attempt is mined wins.',
    request: {
      params: z.object({ key: plainText(500).openapi({ description: 'The transaction key (URL-encode `#` as %23)' }) }),
      body: jsonBody(resendBody),
    },
    responses: {
      200: jsonResponse(ResendResultSchema, 'Re-sent, or marked for the next heal pass'),
      ...errors(400, 401, 403, [404, 'No such transaction'], [409, 'The transaction is not pending'], [422, 'The reason cannot be stored']),
    },
  }),
  verify: route({
    method: 'get',
    path: '/verify',
    tags,
    summary: 'Verify the mirror against the chain: hash chain and every log, row by row (operator only)',
    description: 'Operator only. As `tracewell verify`.',
    request: { query: verifyQuery },
    responses: { 200: jsonResponse(VerifyReportSchema, 'The report (`ok: false` lists the drift)'), ...errors(400, 401, 403) },
  }),
  listener: route({
    method: 'get',
    path: '/listener',
    tags,
    summary: 'How far the ledger listener is behind the chain, and the reorganisations it undid (operator only)',
    responses: { 200: jsonResponse(MirrorStatusSchema, 'The listener'), ...errors(401, 403) },
  }),
  failures: route({
    method: 'get',
    path: '/failures',
    tags,
    summary: 'Failed steps, oldest failure first, a page at a time (operator only)',
    request: { query: listQuery },
    responses: { 200: jsonResponse(FailurePageSchema, 'A page of failures'), ...errors([400, 'Invalid query or cursor'], 401, 403) },
  }),
  retry: route({
    method: 'post',
    path: '/failures/retry',
    tags,
    summary: 'Retry every parked failure matching a filter, e.g. after a chain outage (operator only)',
    description:
      'Operator only. Give at least one criterion, or `"all": true` (400 `filter_required`). With `Accept: application/x-ndjson` the answer streams one line per part as it is retried, then the summary.',
    request: { body: jsonBody(bulkRetryBody) },
    responses: {
      200: {
        description: 'The summary; or, streamed, progress lines and the summary',
        content: { 'application/json': { schema: BulkRetrySummarySchema }, 'application/x-ndjson': { schema: BulkRetryLineSchema } },
      },
      ...errors([400, 'Invalid input, or no criterion'], 401, 403),
    },
  }),
};

function filterOf(input: z.infer<typeof listQuery> | z.infer<typeof bulkRetryBody>): FailureFilter {
  return {
    lifecycle: input.lifecycle,
    version: input.version,
    kind: input.kind,
    stepId: input.step,
    code: input.code,
    olderThanMs: input.olderThan,
    newerThanMs: input.newerThan,
    ...('partIds' in input && input.partIds ? { partIds: input.partIds } : {}),
  };
}

function decodeCursor(text: string): FailureCursor {
  try {
    const cursor = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as FailureCursor;
    if (typeof cursor.failedAt === 'string' && typeof cursor.partId === 'string') return cursor;
  } catch {
    // answered below
  }
  throw new CodedError(Errors.invalid_cursor);
}

const encodeCursor = (cursor: FailureCursor) => Buffer.from(JSON.stringify(cursor)).toString('base64url');

function failureView(row: FailureRow, now: Date) {
  return {
    partId: row.partId,
    lifecycle: { name: row.lifecycle, version: row.lifecycleVersion },
    partStatus: row.partStatus,
    step: { id: row.stepId, kind: row.kind },
    error: { code: row.errorCode, message: row.errorMessage },
    attempts: row.attempts,
    lastTxHash: row.lastTxHash,
    failedAt: row.failedAt,
    ageSeconds: row.failedAt ? Math.max(0, Math.round((now.getTime() - row.failedAt.getTime()) / 1000)) : null,
    /** What ops can do: decide on a parked step, or reset a failed part's workflow. */
    actions: row.partStatus === 'parked' ? [...OPS_ACTIONS] : ['reset' as const],
  };
}

export function opsRoutes({ db, temporal, chain, ledger, keys }: ApiDeps) {
  const app = apiRouter();

  // Everything here is for operators: checked before the input is validated.
  app.use('*', roleRequired(API_ROLES.operator));

  app.openapi(routes.transactions, async (c) => {
    const { status, signer, stuckAfter, limit } = c.req.valid('query');
    const transactions = await listTransactions(db, chain.chainId, { status, signer, stuckAfterMs: stuckAfter, limit });
    return c.json({ transactions }, 200);
  });

  app.openapi(routes.resend, async (c) => {
    const { key } = c.req.valid('param');
    const { reason } = c.req.valid('json');
    checkOperatorReason(reason);
    return c.json(await resendTransaction({ db, chain, keys }, key, actingParticipant(c).id, reason), 200);
  });

  app.openapi(routes.verify, async (c) => {
    const { maxDrift } = c.req.valid('query');
    return c.json(await verifyMirror(db, chain.client, ledger, { maxDrift }), 200);
  });

  app.openapi(routes.listener, async (c) => c.json(await mirrorStatus(db, chain.client, ledger), 200));

  app.openapi(routes.failures, async (c) => {
    const query = c.req.valid('query');
    const filter: FailureFilter = { ...filterOf(query), partStatus: query.status === 'all' ? ['parked', 'failed'] : [query.status] };
    const now = new Date();
    const [page, total] = await Promise.all([
      listFailures(db, filter, { limit: query.limit, after: query.cursor ? decodeCursor(query.cursor) : undefined }, now),
      countFailures(db, filter, now),
    ]);
    return c.json(
      { failures: page.rows.map((row) => failureView(row, now)), total, nextCursor: page.next ? encodeCursor(page.next) : null },
      200,
    );
  });

  app.openapi(routes.retry, async (c) => {
    const body = c.req.valid('json');
    const { all, reason, max, ...criteria } = body;
    if (!all && Object.values(criteria).every((value) => value === undefined)) {
      throw new CodedError(Errors.filter_required);
    }
    const options = { actor: actingParticipant(c).id, reason, max };
    if (!(c.req.header('accept') ?? '').includes('application/x-ndjson')) {
      return c.json(await retryFailures({ db, temporal }, filterOf(body), options), 200);
    }
    // Streamed: one line per part as it is retried, then the summary (for progress bars).
    c.header('content-type', 'application/x-ndjson');
    const streamed = stream(
      c,
      async (out) => {
        const summary = await retryFailures({ db, temporal }, filterOf(body), {
          ...options,
          onOutcome: (outcome, done, total) => out.write(`${JSON.stringify({ type: 'progress', done, total, ...outcome })}\n`),
        });
        await out.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
      },
      async (error, out) => {
        // The status line is sent already: say on the stream that the batch stopped, and why.
        const answer =
          error instanceof CodedError && error.status < 500 ? error.toJSON() : { code: Errors.internal_error.code, message: error.message };
        await out.write(`${JSON.stringify({ type: 'error', code: answer.code, message: answer.message })}\n`);
      },
    );
    // zod-openapi types a route's answers as JSON or text only: the NDJSON stream is a plain Response.
    return streamed as unknown as TypedResponse<never, 200, 'json'>;
  });

  return app;
}
