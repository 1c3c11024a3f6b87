// The route-definition layer on its own: a tiny router declared the way every API module is, its
// requests validated from the definitions, its document generated and accepted by an independent
// OpenAPI validator, and a route declared without a definition caught.
import { Validator } from '@seriousme/openapi-schema-validator';
import { OpenAPIHono, z } from '@hono/zod-openapi';
import { describe, expect, it } from 'vitest';
import { CodedError } from '../../domain/errors/coded-error.js';
import { apiDocument, undocumentedRoutes } from '../../api/docs.js';
import { errorResponse } from '../../api/error-response.js';
import { IdempotencyKeyHeader } from '../../api/idempotency.js';
import { apiRouter, errors, jsonBody, jsonResponse, route } from '../../api/openapi.js';

const Order = z
  .object({ sku: z.string().min(1), qty: z.number().int().positive(), note: z.string().optional() })
  .strict()
  .openapi('Order');

function orders() {
  const app = apiRouter();
  app.openapi(
    route({
      method: 'post',
      path: '/{shop}/orders',
      request: {
        params: z.object({ shop: z.string().regex(/^[a-z]+$/) }),
        query: z.object({ dryRun: z.enum(['true', 'false']).optional() }),
        headers: IdempotencyKeyHeader,
        body: jsonBody(Order),
      },
      responses: { 201: jsonResponse(Order.extend({ shop: z.string() }), 'Placed'), ...errors(400, 415) },
    }),
    (c) => c.json({ ...c.req.valid('json'), shop: c.req.valid('param').shop }, 201),
  );
  app.openapi(
    route({
      method: 'post',
      path: '/notes',
      request: { body: jsonBody(z.object({ text: z.string().optional() }), { required: false }) },
      responses: { 200: jsonResponse(z.object({ text: z.string() }), 'Noted') },
    }),
    (c) => c.json({ text: c.req.valid('json').text ?? '(absent)' }, 200),
  );
  const root = new OpenAPIHono();
  root.route('/shops', app);
  root.onError((error, c) => (error instanceof CodedError ? errorResponse(c, error) : c.json({ error: String(error) }, 500)));
  return root;
}

const post = (app: OpenAPIHono, path: string, body?: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  Promise.resolve(app.request(path, { method: 'POST', body, headers })).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as any,
  }));

describe('route definitions', () => {
  it('validate the body, query, path and headers from the same schemas, naming each field', async () => {
    const app = orders();
    expect(await post(app, '/shops/acme/orders', JSON.stringify({ sku: 'chip', qty: 2 }))).toEqual({
      status: 201,
      body: { sku: 'chip', qty: 2, shop: 'acme' },
    });
    const bad = await post(app, '/shops/acme/orders', JSON.stringify({ sku: '', qty: 'two', extra: 1 }));
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    expect(bad.body.error.details.map((d: { field: string }) => d.field).sort()).toEqual(['(body)', 'qty', 'sku']);
    expect(await post(app, '/shops/acme/orders?dryRun=maybe', JSON.stringify({ sku: 'chip', qty: 1 }))).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_query', details: [{ field: 'dryRun' }] } },
    });
    expect(await post(app, '/shops/ACME/orders', JSON.stringify({ sku: 'chip', qty: 1 }))).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_path', details: [{ field: 'shop' }] } },
    });
    expect(
      await post(app, '/shops/acme/orders', JSON.stringify({ sku: 'chip', qty: 1 }), {
        'content-type': 'application/json',
        'idempotency-key': 'no spaces',
      }),
    ).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_idempotency_key' } },
    });
  });

  it('answer malformed JSON with 400 invalid_json, another media type with 415, and take an absent body as {}', async () => {
    const app = orders();
    expect(await post(app, '/shops/acme/orders', '{"sku":')).toMatchObject({ status: 400, body: { error: { code: 'invalid_json' } } });
    expect(await post(app, '/shops/acme/orders', 'sku=chip', { 'content-type': 'application/x-www-form-urlencoded' })).toMatchObject({
      status: 415,
      body: { error: { code: 'unsupported_media_type' } },
    });
    expect(await post(app, '/shops/acme/orders', '{"sku":"chip","qty":1}', {})).toMatchObject({ status: 415 });
    expect(
      await post(app, '/shops/acme/orders', '{"sku":"chip","qty":1}', { 'content-type': 'application/json ; charset=utf-8' }),
    ).toMatchObject({ status: 201 });
    expect(
      await post(app, '/shops/acme/orders', '{"sku":"chip","qty":1}', { 'content-type': 'application/merge-patch+json' }),
    ).toMatchObject({ status: 201 });
    // Not let through to a check that would then ignore the body as not JSON.
    expect(await post(app, '/shops/notes', '{"text":"kept"}', { 'content-type': 'Application/JSON' })).toMatchObject({ status: 415 });
    expect(await post(app, '/shops/notes', '{"text":"kept"}')).toEqual({ status: 200, body: { text: 'kept' } });
    // No body: validated as {}, so the missing fields are named; an optional body is simply {}.
    expect(await post(app, '/shops/acme/orders', undefined, {})).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request', details: [{ field: 'sku' }, { field: 'qty' }] } },
    });
    expect(await post(app, '/shops/notes', undefined, {})).toEqual({ status: 200, body: { text: '(absent)' } });
    expect(await post(app, '/shops/notes', '')).toEqual({ status: 200, body: { text: '(absent)' } });
    expect(await post(app, '/shops/notes', '{"text":7}')).toMatchObject({ status: 400, body: { error: { details: [{ field: 'text' }] } } });
  });

  it('generate an OpenAPI 3.1 document that an independent validator accepts', async () => {
    const app = orders();
    const document = apiDocument(app) as any;
    const result = await new Validator().validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
    const operation = document.paths['/shops/{shop}/orders'].post;
    expect(operation.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Order' });
    expect(operation.parameters.map((p: { in: string; name: string }) => `${p.in}:${p.name}`).sort()).toEqual([
      'header:idempotency-key',
      'path:shop',
      'query:dryRun',
    ]);
    expect(document.components.schemas.Order).toMatchObject({ type: 'object', required: ['sku', 'qty'], additionalProperties: false });
    expect(operation.responses['415'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(document.paths['/shops/notes'].post.requestBody.required).toBe(false);
  });

  it('find routes served without a definition', () => {
    const app = orders();
    expect(undocumentedRoutes(app)).toEqual([]);
    app.get('/shops/:shop/secret', (c) => c.text('not in the document'));
    expect(undocumentedRoutes(app)).toEqual(['GET /shops/{shop}/secret']);
  });
});
