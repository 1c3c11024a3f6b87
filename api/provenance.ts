// Provenance: GET /parts/:id/trace/backward (what the part is made of, as a tree or, with
// ?shape=graph, each part once with links to its inputs; certificates and custody at every level),
// /trace/forward (every bundle, product and holder the part reached) and /history (every chain event
// of the part, in order, with transaction hashes).
import { z } from '@hono/zod-openapi';
import { getPart } from '../db/parts.js';
import { partHistory } from '../db/provenance.js';
import { backwardTrace, forwardTrace } from '../domain/provenance/traces.js';
import { partIdParams } from './parts.js';
import type { ApiDeps } from './deps.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { apiRouter, errors, jsonResponse, route } from './openapi.js';

const backwardQuery = z
  .object({
    shape: z.enum(['tree', 'graph']).default('tree').openapi({
      description: '`tree`: a part shared by several paths appears under each; `graph`: every part once, with links to its inputs',
    }),
  })
  .strict();

const CertificateSchema = z
  .object({
    kind: z.string(),
    documentHash: z.string(),
    issuer: z.string().nullable().openapi({ description: 'The issuing participant, when known' }),
    issuerAddress: z.string(),
    validUntil: z.string().nullable().openapi({ description: 'ISO time, or null for no expiry' }),
    valid: z.boolean().openapi({ description: 'Not expired now' }),
    txHash: z.string(),
    attachedAt: z.string(),
  })
  .openapi('TraceCertificate');

const CustodySchema = z
  .object({
    from: z.string().nullable(),
    to: z.string().nullable(),
    fromAddress: z.string().nullable(),
    toAddress: z.string().nullable(),
    txHash: z.string(),
    blockNumber: z.string().nullable().openapi({ description: 'decimal' }),
    at: z.string().nullable(),
  })
  .openapi('TraceCustody');

const nodeFields = {
  id: z.string(),
  lifecycle: z.string().nullable(),
  status: z.string().nullable().openapi({ description: 'active, parked, completed, failed or aborted; null for a part not mirrored' }),
  owner: z.string().nullable().openapi({ description: 'The holding participant' }),
  decommissionedAt: z.string().nullable(),
  certificates: z.array(CertificateSchema),
  custody: z.array(CustodySchema).openapi({ description: 'Custody changes, in order' }),
};

// null only at the root; zod-openapi leaves null out of a nullable enum's list, so it is listed here.
const linkKind = z
  .enum(['component', 'source', 'content'])
  .nullable()
  .openapi({
    enum: ['component', 'source', 'content', null],
    description: '`component` (consumed by assembly), `source` (a lot it was derived from) or `content` (in a bundle)',
  });
const linkFields = {
  link: linkKind,
  linkedTx: z.string().nullable(),
  linkedAt: z.string().nullable(),
  unlinkedAt: z.string().nullable().optional().openapi({ description: 'For bundle contents: when it left the bundle, or null' }),
};

const TraceNodeSchema = z.object(nodeFields).openapi('TraceNode');
const TraceLinkSchema = z.object(linkFields).openapi('TraceLink');

// Recursive, which zod-openapi 0.19 cannot express (no z.lazy): the schema is written out as
// metadata, and the handler's answer is checked as a JSON object.
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const TraceTreeNodeSchema = z.record(z.unknown()).openapi('TraceTreeNode', {
  description: 'A TraceNode with its components: each one linked (TraceLink) and, recursively, a TraceTreeNode',
  allOf: [ref('TraceNode')],
  properties: { components: { type: 'array', items: { allOf: [ref('TraceLink'), ref('TraceTreeNode')] } } },
  required: ['components'],
});

const BackwardTraceSchema = z
  .discriminatedUnion('shape', [
    z.object({
      shape: z.literal('tree'),
      part: TraceTreeNodeSchema,
      parts: z.number().int().openapi({ description: 'Distinct parts found' }),
      depth: z.number().int(),
    }),
    z.object({
      shape: z.literal('graph'),
      root: z.string(),
      nodes: z.array(
        TraceNodeSchema.extend({
          components: z.array(TraceLinkSchema.extend({ id: z.string() })).openapi({ description: "The part's inputs" }),
        }),
      ),
      parts: z.number().int().openapi({ description: 'Distinct parts found' }),
      depth: z.number().int(),
    }),
  ])
  .openapi('BackwardTrace');

const ForwardTraceSchema = z
  .object({
    part: TraceNodeSchema,
    reached: z.array(
      TraceNodeSchema.extend({
        via: z.string().nullable().openapi({ description: 'The part it was reached from' }),
        depth: z.number().int(),
        ...linkFields,
      }),
    ),
    products: z.array(z.string()).openapi({ description: 'Parts it reached as a component' }),
    bundles: z.array(z.string()).openapi({ description: 'Bundles it reached as content' }),
    holders: z
      .array(
        z.object({
          participant: z.string().nullable(),
          address: z.string(),
          parts: z.array(z.string()),
          firstAt: z.string().nullable(),
          lastAt: z.string().nullable(),
        }),
      )
      .openapi({ description: 'Everyone who held any of these parts, with when they first and last received one' }),
  })
  .openapi('ForwardTrace');

const PartHistorySchema = z
  .object({
    events: z.array(
      z
        .object({
          event: z.string().openapi({ description: 'The PartRegistry event', example: 'Transfer' }),
          at: z.string().openapi({ description: "ISO time of the event's block" }),
          blockNumber: z.number().int(),
          logIndex: z.number().int(),
          txHash: z.string(),
        })
        .catchall(z.unknown())
        .openapi({ description: 'An event, with its arguments as further fields' }),
    ),
  })
  .openapi('PartHistory');

const tags = ['Provenance'];

const routes = {
  backward: route({
    method: 'get',
    path: '/{id}/trace/backward',
    tags,
    summary: 'What a part is made of, recursively, with certificates and custody at every level',
    request: { params: partIdParams, query: backwardQuery },
    responses: {
      200: jsonResponse(BackwardTraceSchema, 'The backward trace, in the requested shape'),
      ...errors(
        [400, 'An unknown query parameter or shape'],
        401,
        [404, 'No such part'],
        [422, 'More nodes than an answer may carry (`trace_too_large`): trace a component instead'],
      ),
    },
  }),
  forward: route({
    method: 'get',
    path: '/{id}/trace/forward',
    tags,
    summary: 'Every bundle, product and holder a part reached (for a recall)',
    request: { params: partIdParams },
    responses: { 200: jsonResponse(ForwardTraceSchema, 'The forward trace'), ...errors(401, [404, 'No such part']) },
  }),
  history: route({
    method: 'get',
    path: '/{id}/history',
    tags,
    summary: 'Every chain event of a part, in chain order, with transaction hashes',
    request: { params: partIdParams },
    responses: { 200: jsonResponse(PartHistorySchema, 'Its events'), ...errors(401, [404, 'No such part']) },
  }),
};

export function provenanceRoutes({ db }: ApiDeps) {
  const app = apiRouter();

  async function requirePart(id: string) {
    if (!(await getPart(db, id))) throw new CodedError(Errors.part_not_found, { id });
  }

  app.openapi(routes.backward, async (c) => {
    const { id } = c.req.valid('param');
    const { shape } = c.req.valid('query');
    await requirePart(id);
    return c.json(await backwardTrace(db, id, shape), 200);
  });

  app.openapi(routes.forward, async (c) => {
    const { id } = c.req.valid('param');
    await requirePart(id);
    return c.json(await forwardTrace(db, id), 200);
  });

  app.openapi(routes.history, async (c) => {
    const { id } = c.req.valid('param');
    await requirePart(id);
    const events = await partHistory(db, id);
    return c.json(
      {
        events: events.map((event) => ({
          event: event.name,
          at: event.at.toISOString(),
          blockNumber: event.blockNumber,
          logIndex: event.logIndex,
          txHash: event.txHash,
          ...event.args,
        })),
      },
      200,
    );
  });

  return app;
}
