// Issue 20's inputs that used to answer 500, each now refused at the edge with its 4xx and a
// catalogue code, and nothing written: NUL characters, an empty participant change, numbers out of
// range, JSON nested 50,000 levels deep.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partRegistryAbi } from '../../contracts/generated/PartRegistry.js';
import type { Stack } from '../../app/wiring/stack.js';
import { MAX_JSON_DEPTH } from '../../api/input-limits.js';
import { apiClient, waitingFor } from '../support/api-client.js';
import type { ApiResponse } from '../support/api-client.js';
import { startTestStack, uniqueId } from '../support/env.js';
import { stateFingerprint } from '../support/side-effects.js';

let stack: Stack;
const { call, untilPart } = apiClient(() => stack.apiUrl);
const contract = `registry-${Date.now().toString(36)}`;

beforeAll(async () => {
  stack = await startTestStack();
  const registered = await call('POST', '/contracts', { name: contract, address: stack.core.registry.address, abi: partRegistryAbi });
  expect(registered.status).toBe(201);
});
afterAll(async () => {
  await stack?.stop();
});

/** Sends the request and checks that it is refused with `status` and `code`, and that it wrote nothing. */
async function refused(send: () => Promise<ApiResponse>, status: number, code: string): Promise<ApiResponse> {
  const before = await stateFingerprint(stack.core.database.db);
  const answer = await send();
  expect(answer, JSON.stringify(answer.body)).toMatchObject({ status, body: { error: { code, message: expect.any(String) } } });
  expect(await stateFingerprint(stack.core.database.db)).toEqual(before);
  return answer;
}

/** `n` arrays, one inside the other, as JSON text (built as text: JSON.stringify itself would recurse). */
const nested = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

describe('input at the edge', () => {
  it('refuses NUL in a path, a query value or a JSON string with 400, before anything is stored', async () => {
    const path = await refused(() => call('GET', '/parts/a%00b'), 400, 'invalid_path');
    expect(path.body.error.message).toContain('U+0000');
    await refused(() => call('GET', '/participants/a%00b'), 400, 'invalid_path');
    await refused(() => call('GET', '/lifecycles/part-basic%0A'), 400, 'invalid_path');
    const query = await refused(() => call('GET', '/events?parts=a%00b'), 400, 'invalid_query');
    expect(query.body.error.details).toEqual([{ field: 'parts', message: 'control character U+0000 is not allowed' }]);
    const part = await refused(() => call('POST', '/parts', { id: uniqueId(), lifecycle: 'part\u0000basic' }), 400, 'invalid_request');
    expect(part.body.error.details).toEqual([{ field: 'lifecycle', message: 'U+0000 (NUL) cannot be stored' }]);
    const label = await refused(() => call('POST', '/participants/admin/api-keys', { label: 'a\u0000b' }), 400, 'invalid_request');
    expect(label.body.error.details).toEqual([{ field: 'label', message: 'U+0000 (NUL) cannot be stored' }]);
    // Anywhere in a body, keys too; a YAML definition as well.
    await refused(
      () => call('POST', '/parts', { id: uniqueId(), lifecycle: 'part-basic', params: { 'b\u0000': 1 } }),
      400,
      'invalid_request',
    );
    await refused(
      () =>
        call(
          'POST',
          '/lifecycles',
          `name: nul-${Date.now().toString(36)}\ndescription: "a\\0b"\nroles:\n  manufacturer: { default: acme-foundry }\nsteps:\n  - { id: mint, kind: mint, to: manufacturer }\n`,
          { contentType: 'application/yaml' },
        ),
      400,
      'invalid_request',
    );
    // Other control characters are content a JSON string may carry (a newline in a reason).
    expect((await call('POST', '/participants/admin/api-keys', { label: 'line\none' })).status).toBe(201);
  });

  it('refuses an empty participant change with 400 naming the fields', async () => {
    const answer = await refused(() => call('PATCH', '/participants/acme-foundry', {}), 400, 'invalid_request');
    expect(answer.body.error.message).toContain('give at least one of name, roles');
  });

  it('refuses numbers out of range with 400 naming the field and its limit', async () => {
    const version = await refused(
      () => call('POST', '/parts', '{"id":"urn:test:part:big-version","lifecycle":"part-basic","version":1e308}'),
      400,
      'invalid_request',
    );
    expect(version.body.error.details).toEqual([{ field: 'version', message: 'at most 2147483647' }]);
    expect(
      (await refused(() => call('GET', '/ops/failures?version=99999999999999999999999'), 400, 'invalid_query')).body.error.details,
    ).toEqual([{ field: 'version', message: 'at most 2147483647' }]);
    expect(
      (await refused(() => call('GET', '/ops/failures?olderThan=99999999999999999999999'), 400, 'invalid_query')).body.error.details,
    ).toEqual([{ field: 'olderThan', message: 'at most 3650d' }]);
    await refused(() => call('GET', '/ops/failures?newerThan=3651d'), 400, 'invalid_query');
    await refused(() => call('POST', '/ops/failures/retry', '{"newerThan":1e308}'), 400, 'invalid_request');
    await refused(() => call('POST', '/lifecycles/part-basic/default', '{"version":1e308}'), 400, 'invalid_request');
    expect(
      (await refused(() => call('GET', `/contracts/${contract}/events?toBlock=99999999999999999999999`), 400, 'invalid_query')).body.error
        .details,
    ).toEqual([{ field: 'toBlock', message: 'a block number from 0 to 9007199254740991, or latest' }]);
    await refused(() => call('GET', `/contracts/${contract}/events?fromBlock=9007199254740992`), 400, 'invalid_query');
    // The largest block number taken reads up to the chain's head, at once.
    const far = await call('GET', `/contracts/${contract}/events?fromBlock=0&toBlock=9007199254740991`);
    expect(far.status).toBe(200);
    expect(Array.isArray(far.body.events)).toBe(true);
    // Within range, the failures filter works.
    expect((await call('GET', '/ops/failures?version=2147483647&olderThan=3650d')).status).toBe(200);
  });

  it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels in an update's payload and in retry params, and the part waits on`, async () => {
    const id = uniqueId();
    expect((await call('POST', '/parts', { id, lifecycle: 'part-basic' })).status).toBe(201);
    await untilPart(id, waitingFor('sold'));
    const deep = await refused(
      () => call('POST', `/parts/${id}/updates/sold`, `{"buyer":"northwind-logistics","note":${nested(50_000)}}`),
      400,
      'invalid_request',
    );
    expect(deep.body.error.message).toContain(`nested deeper than ${MAX_JSON_DEPTH} levels`);
    await refused(() => call('POST', `/parts/${id}/steps/sold/retry`, `{"params":{"x":${nested(50_000)}}}`), 400, 'invalid_request');
    // At the limit the guard lets it through, and the payload is judged on its content (an undeclared field).
    await refused(
      () => call('POST', `/parts/${id}/updates/sold`, `{"buyer":"northwind-logistics","note":${nested(MAX_JSON_DEPTH - 1)}}`),
      422,
      'invalid_payload',
    );
    await refused(
      () => call('POST', `/parts/${id}/updates/sold`, `{"buyer":"northwind-logistics","note":${nested(MAX_JSON_DEPTH)}}`),
      400,
      'invalid_request',
    );
    expect(await call('GET', `/parts/${id}`)).toMatchObject({
      status: 200,
      body: { currentStep: 'sold', workflow: { state: 'awaiting' } },
    });
    expect((await call('POST', `/parts/${id}/updates/sold`, { buyer: 'northwind-logistics' })).status).toBe(200);
  });
});
