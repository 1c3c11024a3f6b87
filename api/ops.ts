// /ops: the failed steps ops work on, and retrying many of them at once (e.g. after a chain outage).
import { Hono } from 'hono';
import { stream } from 'hono/streaming';
import { z } from 'zod';
import { durationSchema } from '../config/duration.js';
import { countFailures, listFailures } from '../db/failures.js';
import type { FailureCursor, FailureFilter, FailureRow } from '../db/failures.js';
import { mirrorStatus } from '../ledger/mirror-status.js';
import { verifyMirror } from '../ledger/verify.js';
import { retryFailures } from '../ops/bulk-retry.js';
import { PART_ID_PATTERN, STEP_KINDS } from '../workflows/definition.js';
import type { ApiDeps } from './deps.js';
import { ApiError, readJson, readQuery } from './errors.js';
import { API_ROLES, requireRole } from './auth.js';
import { operatorOf } from './operator.js';

/** The filter of GET /ops/failures (query string) and POST /ops/failures/retry (body). */
const filterFields = {
  lifecycle: z.string().min(1).optional(),
  version: z.coerce.number().int().positive().optional(),
  kind: z.enum(STEP_KINDS).optional(),
  step: z.string().min(1).optional(),
  code: z.string().min(1).optional(),
  olderThan: durationSchema.optional(),
  newerThan: durationSchema.optional(),
};

const listQuery = z
  .object({
    ...filterFields,
    status: z.enum(['parked', 'failed', 'all']).default('parked'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    cursor: z.string().optional(),
  })
  .strict();

const bulkRetryBody = z
  .object({
    ...filterFields,
    version: z.number().int().positive().optional(),
    partIds: z.array(z.string().regex(PART_ID_PATTERN)).min(1).max(10_000).optional(),
    /** Required with no other criterion, so an empty body never retries everything by accident. */
    all: z.literal(true).optional(),
    reason: z.string().min(1).max(1000).optional(),
    max: z.number().int().min(1).max(10_000).default(1000),
  })
  .strict();

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
  throw new ApiError(400, 'invalid_cursor', 'cursor: pass back the nextCursor of the previous page');
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
    actions: row.partStatus === 'parked' ? ['retry', 'skip', 'abort', 'reset'] : ['reset'],
  };
}

export function opsRoutes({ db, temporal, chain, ledger }: ApiDeps): Hono {
  const app = new Hono();

  // Everything here is for operators.
  app.use('*', async (c, next) => {
    requireRole(c, API_ROLES.operator);
    await next();
  });

  // The mirror against the chain: hash chain and every log, row by row (as `tracewell verify`).
  app.get('/verify', async (c) => {
    const { maxDrift } = readQuery(c, z.object({ maxDrift: z.coerce.number().int().min(1).max(100_000).default(1000) }).strict());
    return c.json(await verifyMirror(db, chain.client, ledger, { maxDrift }));
  });

  // How far the ledger listener is behind the chain, and the reorganisations it undid.
  app.get('/listener', async (c) => c.json(await mirrorStatus(db, chain.client, ledger)));

  app.get('/failures', async (c) => {
    const query = readQuery(c, listQuery);
    const filter: FailureFilter = { ...filterOf(query), partStatus: query.status === 'all' ? ['parked', 'failed'] : [query.status] };
    const now = new Date();
    const [page, total] = await Promise.all([
      listFailures(db, filter, { limit: query.limit, after: query.cursor ? decodeCursor(query.cursor) : undefined }, now),
      countFailures(db, filter, now),
    ]);
    return c.json({ failures: page.rows.map((row) => failureView(row, now)), total, nextCursor: page.next ? encodeCursor(page.next) : null });
  });

  app.post('/failures/retry', async (c) => {
    const body = await readJson(c, bulkRetryBody);
    const { all, reason, max, ...criteria } = body;
    if (!all && Object.values(criteria).every((value) => value === undefined)) {
      throw new ApiError(400, 'filter_required', 'give at least one of lifecycle, version, kind, step, code, olderThan, newerThan, partIds, or "all": true');
    }
    const options = { actor: operatorOf(c), reason, max };
    if (!(c.req.header('accept') ?? '').includes('application/x-ndjson')) {
      return c.json(await retryFailures({ db, temporal }, filterOf(body), options));
    }
    // Streamed: one line per part as it is retried, then the summary (for progress bars).
    c.header('content-type', 'application/x-ndjson');
    return stream(c, async (out) => {
      const summary = await retryFailures({ db, temporal }, filterOf(body), {
        ...options,
        onOutcome: (outcome, done, total) => out.write(`${JSON.stringify({ type: 'progress', done, total, ...outcome })}\n`),
      });
      await out.write(`${JSON.stringify({ type: 'summary', ...summary })}\n`);
    }, async (error, out) => {
      // The status line is sent already: say on the stream that the batch stopped, and why.
      await out.write(`${JSON.stringify({ type: 'error', code: 'internal_error', message: error.message })}\n`);
    });
  });

  return app;
}
