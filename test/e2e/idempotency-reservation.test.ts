// The Idempotency-Key reservation on the run's real SQL, through a small Hono app whose one route
// does slow work under `idempotent`: a repeat that arrives while the first still works waits for
// its response, or answers 409 `idempotency_key_in_use` with Retry-After past the wait; a holder
// that died frees the key when its lease lapses; a failure frees the key for a retry; another body
// under the key answers 422. (The gateway's concurrent pairs are in contract-gateway.test.ts.)
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { inject } from 'vitest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idempotent, requestFingerprint } from '../../api/idempotency.js';
import { errorResponse } from '../../api/error-response.js';
import { openDatabase } from '../../db/client.js';
import type { Database } from '../../db/client.js';
import { idempotencyKeys } from '../../db/schema.js';
import { CodedError } from '../../domain/errors/coded-error.js';
import type { Participant } from '../../db/participants.js';

let database: Database;
const participantId = `idem-${randomUUID().slice(0, 8)}`;
/** How many times the work ran, by key. */
const runs = new Map<string, number>();
const timing = { leaseMs: 1_500, waitMs: 600 };

function app(workMs: (body: { ms: number; fail?: boolean }) => number) {
  const server = new Hono();
  server.onError((error, c) => {
    if (error instanceof CodedError) return errorResponse(c, error);
    if (error.message !== 'the work failed') console.error(error);
    return c.json({ error: 'internal' }, 500);
  });
  server.post('/work', async (c) => {
    c.set('participant', { id: participantId } as Participant);
    const body = await c.req.json<{ ms: number; fail?: boolean }>();
    return idempotent(
      c,
      database.db,
      async (key) => {
        runs.set(key!, (runs.get(key!) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, workMs(body)));
        if (body.fail) throw new Error('the work failed');
        return c.json({ key, run: runs.get(key!), at: Date.now() }, 200);
      },
      timing,
    );
  });
  return server;
}

const server = app((body) => body.ms);
const post = async (key: string, body: { ms: number; fail?: boolean }): Promise<Response> =>
  server.request('/work', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  database = await openDatabase({ url: inject('databaseUrl') || undefined });
  await database.migrate();
});

afterAll(async () => {
  await database?.close();
});

describe('Idempotency-Key reservation', () => {
  it('runs the work once for repeats sent at once, each answered with the first response', async () => {
    const key = `k-${randomUUID()}`;
    const answers = await Promise.all(Array.from({ length: 5 }, () => post(key, { ms: 200 })));
    const bodies = await Promise.all(answers.map((answer) => answer.json()));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(new Set(bodies.map((body) => JSON.stringify(body))).size).toBe(1);
    expect(answers.filter((answer) => answer.headers.get('idempotent-replayed') === 'true')).toHaveLength(4);
    expect(runs.get(key)).toBe(1);
  });

  it('answers 409 idempotency_key_in_use with Retry-After when the first still runs past the wait, then replays it', async () => {
    const key = `k-${randomUUID()}`;
    const first = post(key, { ms: 1_200 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const busy = await post(key, { ms: 1_200 });
    expect(busy.status).toBe(409);
    expect(((await busy.json()) as { error: { code: string } }).error.code).toBe('idempotency_key_in_use');
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const firstBody = await (await first).json();
    const again = await post(key, { ms: 1_200 });
    expect(await again.json()).toEqual(firstBody);
    expect(runs.get(key)).toBe(1);
  });

  it("frees a crashed holder's key when its lease lapses", async () => {
    const key = `k-${randomUUID()}`;
    const body = JSON.stringify({ ms: 10 });
    // What a process that reserved the key and died leaves behind: a holder whose lease lapses.
    await database.db.insert(idempotencyKeys).values({
      participantId,
      key,
      fingerprint: requestFingerprint('POST', '/work', body),
      method: 'POST',
      path: '/work',
      holder: 'a-process-that-died',
      lockedUntil: new Date(Date.now() + 1_000),
    });
    expect((await post(key, { ms: 10 })).status).toBe(409); // still held: waited 600 ms
    await new Promise((resolve) => setTimeout(resolve, 700));
    const taken = await post(key, { ms: 10 });
    expect(taken.status).toBe(200);
    expect(taken.headers.get('idempotent-replayed')).toBeNull();
    expect(runs.get(key)).toBe(1);
  });

  it('frees the key when the work fails, so a retry does the work', async () => {
    const key = `k-${randomUUID()}`;
    expect((await post(key, { ms: 10, fail: true })).status).toBe(500);
    expect((await post(key, { ms: 10, fail: true })).status).toBe(500);
    expect(runs.get(key)).toBe(2);
  });

  it('refuses the key with another body (422 idempotency_key_reused), even while the first runs', async () => {
    const key = `k-${randomUUID()}`;
    const first = post(key, { ms: 300 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const other = await post(key, { ms: 301 });
    expect(other.status).toBe(422);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('idempotency_key_reused');
    expect((await first).status).toBe(200);
  });
});
