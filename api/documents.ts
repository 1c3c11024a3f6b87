// The document vault over HTTP. A participant uploads a document into one of its folders, sealed to
// the recipients it names; only they (and the sender) read it back, each read checked against the
// sender's signature and the content hash. Anyone may verify a document: hash, signature and where
// it is anchored on chain. Uploads and downloads stream: a document is never held in memory whole.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import busboy from 'busboy';
import type { Context } from 'hono';
import { z } from '@hono/zod-openapi';
import { canRead, documentVersions, getDocument, listDocuments, markDocumentDeleted } from '../db/documents.js';
import type { DocumentRow } from '../db/documents.js';
import { findParticipants } from '../db/participants.js';
import type { Participant } from '../db/participants.js';
import { NAME_PATTERN } from '../domain/lifecycles/authoring-schema.js';
import { anchorsOf } from '../domain/documents/anchors.js';
import { DOCUMENT_ID_PATTERN, PARTICIPANT_ID_PATTERN } from '../workflows/definition.js';
import type { Hex } from 'viem';
import { actingParticipant } from './auth.js';
import type { ApiDeps } from './deps.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { documentTooLarge } from '../domain/documents/document-errors.js';
import { apiRouter, errors, invalidInput, jsonResponse, route } from './openapi.js';

/** Folder and file names: one path segment each, safe in blob names and URLs. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,127}$/;
const MAX_RECIPIENTS = 16;
/** Room for multipart boundaries and fields around the document itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

const uploadFields = z
  .object({
    folder: z.string().regex(SEGMENT, 'letters, digits and . _ - or spaces, starting with a letter or digit, at most 128 characters'),
    name: z.string().regex(SEGMENT, 'letters, digits and . _ - or spaces, starting with a letter or digit, at most 128 characters'),
    kind: z.string().regex(NAME_PATTERN, 'lowercase letters, digits and dashes, starting with a letter (e.g. quality, carbon-footprint)'),
    recipients: z
      .string()
      .default('')
      .transform((list) => [
        ...new Set(
          list
            .split(',')
            .map((id) => id.trim())
            .filter(Boolean),
        ),
      ])
      .pipe(
        z
          .array(z.string().regex(PARTICIPANT_ID_PATTERN, 'participant ids, comma-separated'))
          .max(MAX_RECIPIENTS, `at most ${MAX_RECIPIENTS} recipients`),
      ),
  })
  .strict();
type UploadFields = z.infer<typeof uploadFields>;

const listQuery = z
  .object({
    owner: z.string().regex(PARTICIPANT_ID_PATTERN).optional().openapi({ description: 'Only documents this participant sent' }),
    folder: z.string().regex(SEGMENT).optional(),
    name: z.string().regex(SEGMENT).optional(),
    kind: z.string().regex(NAME_PATTERN).optional().openapi({ example: 'quality' }),
    hash: z
      .string()
      .regex(/^0x[0-9a-fA-F]{64}$/, 'a 0x-prefixed SHA-256 hash')
      .optional()
      .openapi({ description: "The content's SHA-256" }),
    box: z
      .enum(['sent', 'received'])
      .optional()
      .openapi({ description: "`sent`: the caller's own; `received`: sealed to it by others (default: both)" }),
    deleted: z.enum(['true', 'false']).default('false').openapi({ description: 'Include deleted versions' }),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z
      .string()
      .regex(/^\d{1,10}$/, 'pass back the nextCursor of the previous page')
      .refine((c) => Number(c) <= 2 ** 31 - 1, 'pass back the nextCursor of the previous page')
      .optional()
      .openapi({ description: 'The `nextCursor` of the previous page' }),
  })
  .strict();

const idParams = z.object({
  id: z
    .string()
    .openapi({ description: "The document's id (a UUID; anything else is not found)", example: '3f2b8c1e-9a4d-4c55-8e21-6b0f1d2a7c90' }),
});

const DocumentSchema = z
  .object({
    id: z.string().openapi({ format: 'uuid' }),
    path: z
      .string()
      .openapi({ description: '`/{owner}/{folder}/{name}`: its versions share it', example: '/tuv-assurance/certs/report.pdf' }),
    owner: z.string().openapi({ description: 'The sender, who signed it' }),
    folder: z.string(),
    name: z.string(),
    version: z.number().int().openapi({ description: 'Numbered per path, from 1' }),
    kind: z.string().openapi({ example: 'quality' }),
    hash: z.string().openapi({ description: 'SHA-256 of the content, 0x-prefixed' }),
    size: z.number().int().openapi({ description: 'Bytes of content' }),
    storedSize: z.number().int().openapi({ description: 'Bytes stored (compressed and encrypted)' }),
    contentType: z.string(),
    recipients: z.array(z.string()).openapi({ description: 'Participants it is sealed to (its sender reads it too)' }),
    signedAt: z.string().datetime(),
    createdAt: z.string().datetime(),
    deleted: z
      .object({ at: z.string().datetime(), by: z.string().nullable() })
      .optional()
      .openapi({ description: 'Once its owner deleted it: the content is gone, the entry (and hash) kept' }),
  })
  .openapi('Document');

const DocumentPageSchema = z
  .object({
    documents: z.array(DocumentSchema).openapi({ description: 'Newest first' }),
    nextCursor: z.string().nullable().openapi({ description: 'Pass as `cursor` for the next page; null on the last' }),
  })
  .openapi('DocumentPage');

const DocumentVersionsSchema = z.object({ path: z.string(), versions: z.array(DocumentSchema) }).openapi('DocumentVersions');

const CheckSchema = z.object({
  ok: z.boolean(),
  code: z.string().optional().openapi({ description: 'Why it failed, e.g. `signature_invalid`, `hash_mismatch`, `content_missing`' }),
  message: z.string().optional(),
});

const AnchorSchema = z
  .object({
    partId: z.string(),
    kind: z.string(),
    issuer: z.string().openapi({ description: 'The issuing participant (its address when unknown)' }),
    issuerAddress: z.string(),
    validUntil: z.string().datetime().nullable().openapi({ description: 'null: no expiry' }),
    expired: z.boolean(),
    txHash: z.string(),
    issuedBySigner: z.boolean().openapi({ description: "Issued by the document's signer" }),
  })
  .openapi('DocumentAnchor');

const VerificationSchema = z
  .object({
    document: z.object({
      id: z.string(),
      hash: z.string(),
      kind: z.string(),
      sender: z.string(),
      version: z.number().int(),
      signedAt: z.string().datetime(),
    }),
    valid: z.boolean().openapi({ description: 'Metadata, signature and content all hold: the content is what the sender signed' }),
    anchored: z.boolean().openapi({ description: 'A certificate on chain carries its hash' }),
    checks: z.object({
      metadata: CheckSchema,
      signature: CheckSchema.extend({ signer: z.string().optional().openapi({ description: "The signer's address" }) }),
      content: CheckSchema.extend({ hash: z.string().optional(), size: z.number().int().optional() }),
      anchor: CheckSchema.extend({ anchors: z.array(AnchorSchema) }),
    }),
  })
  .openapi('DocumentVerification');

const binary = { type: 'string' as const, format: 'binary' };
const text = (description: string, pattern?: RegExp) => ({
  type: 'string' as const,
  description,
  ...(pattern ? { pattern: pattern.source } : {}),
});

/** The upload's fields, as query parameters or multipart fields. Documented only: uploadFields checks them. */
const uploadFieldDocs = {
  folder: text("The sender's folder to store it in", SEGMENT),
  name: text("Its file name (multipart: default the file part's filename)", SEGMENT),
  kind: text('What it is, e.g. quality, carbon-footprint', NAME_PATTERN),
  recipients: text(`Participant ids to seal it to, comma-separated, at most ${MAX_RECIPIENTS} (multipart may repeat the field)`),
};

/** What a download (and HEAD) tells about the document besides its content. */
const documentHeaders = {
  'tracewell-document-id': { description: "The document's id", schema: { type: 'string' as const } },
  'tracewell-document-version': { description: 'Its version of the path', schema: { type: 'string' as const } },
  'tracewell-document-hash': { description: 'SHA-256 of the content', schema: { type: 'string' as const } },
  'tracewell-document-kind': { description: 'Its kind', schema: { type: 'string' as const } },
};

const tags = ['Documents'];

const routes = {
  upload: route({
    method: 'post',
    path: '/',
    tags,
    summary: 'Upload a document into one of your folders, signed by you and sealed to the recipients you name',
    description:
      "Send the raw bytes with the fields as query parameters (the content type is stored as the document's), or a multipart form: " +
      'the fields first, then one file part. A new upload to the same folder and name is its next version. ' +
      'The content streams through: a body over the size limit is refused as it arrives.',
    parameters: Object.entries(uploadFieldDocs).map(([name, schema]) => ({
      name,
      in: 'query' as const,
      required: false,
      description: `${schema.description}${name === 'folder' || name === 'kind' ? ' (required, here or as a multipart field)' : ''}`,
      schema,
    })),
    request: {
      body: {
        required: true,
        description: 'The document: raw bytes of any media type but multipart, or a multipart form',
        content: {
          'application/octet-stream': { schema: binary },
          'multipart/form-data': {
            schema: {
              type: 'object',
              properties: { ...uploadFieldDocs, file: { ...binary, description: 'The document (the last part)' } },
              required: ['file'],
            },
          },
        },
      },
    },
    responses: {
      201: jsonResponse(DocumentSchema, 'Stored'),
      ...errors(
        [400, 'Invalid fields (invalid_request) or an unreadable multipart body (invalid_multipart)'],
        401,
        [413, 'Larger than the size limit (document_too_large)'],
        [422, 'An unknown recipient, or a sender or recipient without a document key'],
        503,
      ),
    },
  }),
  list: route({
    method: 'get',
    path: '/',
    tags,
    summary: 'Documents you sent or received, newest first, a page at a time',
    request: { query: listQuery },
    responses: { 200: jsonResponse(DocumentPageSchema, 'A page of documents'), ...errors(400, 401) },
  }),
  head: route({
    method: 'head',
    path: '/{id}',
    tags,
    summary: "A download's headers without the content",
    request: { params: idParams },
    responses: {
      200: {
        description: 'Readable',
        headers: { 'content-length': { description: 'Bytes of content', schema: { type: 'string' } }, ...documentHeaders },
      },
      401: { description: 'No API key, or one that is unknown or revoked' },
      403: { description: 'Neither its sender nor a recipient' },
      404: { description: 'Not found' },
      410: { description: 'Deleted' },
    },
  }),
  download: route({
    method: 'get',
    path: '/{id}',
    tags,
    summary: 'Download a document you sent or received, checked against its signature and hash',
    description: 'The content streams with its own content type. Should it turn out altered mid-stream, the response is cut short.',
    request: { params: idParams },
    responses: {
      200: {
        description: 'The content; the signature is verified, and the hash checked (`tracewell-hash-check`)',
        headers: {
          ...documentHeaders,
          'tracewell-signer': { description: "The signer's id and address", schema: { type: 'string' } },
          'tracewell-signed-at': { description: 'When it was signed', schema: { type: 'string', format: 'date-time' } },
          'tracewell-hash-check': {
            description: '`recomputed` just now in full, or `unchanged` (the blob is byte for byte the one last hashed)',
            schema: { type: 'string', enum: ['recomputed', 'unchanged'] },
          },
          'tracewell-signature-verified': {
            description: 'Always `true`: a signature that does not verify is refused (409)',
            schema: { type: 'string', enum: ['true'] },
          },
          'tracewell-hash-verified': {
            description: 'Always `true`: a hash that does not match is refused (409) or cuts the stream short',
            schema: { type: 'string', enum: ['true'] },
          },
          'content-disposition': { description: 'attachment, with the name it was stored under', schema: { type: 'string' } },
        },
        content: { '*/*': { schema: binary } },
      },
      ...errors(
        401,
        [403, 'Neither its sender nor a recipient (not_a_recipient)'],
        404,
        [409, 'The stored document does not verify; the code names the check that failed'],
        [410, 'Deleted (document_deleted), or its content is missing (document_content_missing)'],
        503,
      ),
    },
  }),
  metadata: route({
    method: 'get',
    path: '/{id}/metadata',
    tags,
    summary: "A document's entry, without its content",
    request: { params: idParams },
    responses: { 200: jsonResponse(DocumentSchema, 'The document'), ...errors(401, [403, 'Neither its sender nor a recipient'], 404) },
  }),
  versions: route({
    method: 'get',
    path: '/{id}/versions',
    tags,
    summary: "Every version of a document's path that you may read",
    request: { params: idParams },
    responses: {
      200: jsonResponse(DocumentVersionsSchema, 'The versions'),
      ...errors(401, [403, 'Neither its sender nor a recipient'], 404),
    },
  }),
  verify: route({
    method: 'get',
    path: '/{id}/verify',
    tags,
    summary: "Verify any document: its metadata, its sender's signature, its content hash, and where it is anchored on chain",
    description: 'Open to every participant: it reveals the checks, not the content. Each layer is reported; `valid` when all hold.',
    request: { params: idParams },
    responses: { 200: jsonResponse(VerificationSchema, 'What each check found'), ...errors(401, 404, 503) },
  }),
  delete: route({
    method: 'delete',
    path: '/{id}',
    tags,
    summary: 'Delete a document you sent: its content goes, its entry (and hash) stays',
    request: {
      params: idParams,
      query: z.object({
        force: z
          .string()
          .optional()
          .openapi({ description: '`true` deletes it even when your certificates on chain anchor it', example: 'true' }),
      }),
    },
    responses: {
      204: { description: 'Deleted (or deleted before)' },
      ...errors(
        401,
        [403, 'Not its sender (not_owner), or not a reader'],
        404,
        [409, 'Your certificates on chain anchor it (document_anchored); add ?force=true'],
        503,
      ),
    },
  }),
};

/** How a stored document looks to its readers. */
export function documentView(row: DocumentRow) {
  return {
    id: row.id,
    path: `/${row.owner}/${row.folder}/${row.name}`,
    owner: row.owner,
    folder: row.folder,
    name: row.name,
    version: row.version,
    kind: row.kind,
    hash: row.hash,
    size: row.size,
    storedSize: row.storedSize,
    contentType: row.contentType,
    recipients: row.recipients,
    signedAt: row.signedAt.toISOString(),
    createdAt: row.createdAt.toISOString(),
    ...(row.deletedAt ? { deleted: { at: row.deletedAt.toISOString(), by: row.deletedBy } } : {}),
  };
}

function isMultipart(c: Context): boolean {
  return (c.req.header('content-type') ?? '').toLowerCase().startsWith('multipart/form-data');
}

/**
 * The request body as a Node stream. Under @hono/node-server that is the IncomingMessage itself:
 * reading it directly keeps TCP backpressure and holds no copy of the body. Elsewhere, the web body.
 */
function requestBody(c: Context): Readable {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming) return incoming;
  const body = c.req.raw.body;
  return body ? Readable.fromWeb(body as NodeReadableStream<Uint8Array>) : Readable.from([]);
}

/**
 * Reads a multipart upload: the fields first, then one file part, which is handed on as a stream
 * (so fields after the file cannot be honoured, and are refused). A stored document's answer waits
 * for the whole body: one stored before a late problem shows up is taken back with `discard`. A
 * refused one (past the size limit, an unknown recipient, ...) is answered at once, and the rest of
 * the body is left unread for the route to close the connection on.
 */
function readMultipart<T>(
  c: Context,
  store: (fields: Record<string, string>, file: Readable, info: { filename?: string; mimeType: string }) => Promise<T>,
  discard: (stored: T) => Promise<void>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: { 'content-type': c.req.header('content-type')! }, limits: { files: 1, fields: 10, fieldSize: 4096 } });
    } catch (error) {
      reject(new CodedError(Errors.invalid_multipart, { problem: `the multipart body cannot be read: ${(error as Error).message}` }));
      return;
    }
    const body = requestBody(c);
    const fields: Record<string, string> = {};
    let file: Promise<T> | undefined;
    let problem: CodedError | undefined;
    // The store goes on to the end and is then discarded: stopping it halfway would race its commit.
    const refuse = (error: CodedError) => {
      problem ??= error;
    };
    parser.on('field', (name, value) => {
      if (file)
        return refuse(new CodedError(Errors.invalid_multipart, { problem: `field "${name}" comes after the file; send the fields first` }));
      // A repeated `recipients` field adds to the list.
      fields[name] = name === 'recipients' && fields[name] ? `${fields[name]},${value}` : value;
    });
    parser.on('file', (_name, stream, info) => {
      // Its failures reach the store, which reports them; none may go unheard.
      stream.on('error', () => {});
      file = store(fields, stream, { filename: info.filename, mimeType: info.mimeType });
      // Refused: stop reading. Draining the file stream instead cannot work once the store has read
      // from it (an async iterator's 'readable' listener keeps resume() from flowing), so the parser
      // stalled on it and the request hung until Node's request timeout. Unpiped rather than
      // destroyed: destroying the request would take the socket, and the answer with it.
      file.catch((error: unknown) => {
        body.unpipe(parser);
        body.pause();
        reject(problem ?? error);
      });
    });
    parser.on('filesLimit', () => refuse(new CodedError(Errors.invalid_multipart, { problem: 'one file per upload' })));
    parser.on('close', () => {
      if (!file) return reject(problem ?? new CodedError(Errors.invalid_multipart, { problem: 'the multipart body has no file part' }));
      file.then(
        async (stored) => {
          if (!problem) return resolve(stored);
          await discard(stored);
          reject(problem);
        },
        (error: unknown) => reject(problem ?? error),
      );
    });
    // A client that goes away mid-upload destroys the parser, which ends the file stream with the error
    // and so the store.
    pipeline(body, parser).catch((error: Error) => {
      const failure =
        error instanceof CodedError
          ? error
          : new CodedError(Errors.invalid_multipart, { problem: `the multipart body cannot be read: ${error.message}` });
      refuse(failure);
      if (!file) reject(failure);
    });
  });
}

type DocumentsRouter = ReturnType<typeof apiRouter>;
type OpenedDocument = Awaited<ReturnType<ApiDeps['documents']['open']>>;
type DocumentCheck = Awaited<ReturnType<ApiDeps['documents']['check']>>;
type Anchors = Awaited<ReturnType<typeof anchorsOf>>;

/** /documents: upload, list, download, verify and delete signed, encrypted documents. */
export function documentRoutes(deps: ApiDeps) {
  const app = apiRouter();
  uploadRoute(app, deps);
  listRoute(app, deps);
  readRoutes(app, deps);
  verifyRoute(app, deps);
  deleteRoute(app, deps);
  return app;
}

/** The sender's recipients (the sender left out): each must exist and have a document key. */
async function recipientsOf(db: ApiDeps['db'], sender: Participant, ids: string[]): Promise<Participant[]> {
  const others = ids.filter((id) => id !== sender.id);
  const known = await findParticipants(db, others);
  const unknown = others.filter((id) => !known.has(id));
  if (unknown.length > 0) {
    const issues = unknown.map((id) => ({ field: 'recipients', message: `unknown participant "${id}"` }));
    throw new CodedError(Errors.unknown_recipient, { problems: issues.map((i) => `${i.field}: ${i.message}`).join('; ') }, issues);
  }
  const recipients = others.map((id) => known.get(id)!);
  const keyless = recipients.filter((r) => !r.documentPublicKey);
  if (keyless.length > 0)
    throw new CodedError(Errors.recipient_without_key, {
      ids: keyless.map((r) => r.id).join(', '),
      verb: keyless.length > 1 ? 'have' : 'has',
    });
  return recipients;
}

async function storeUpload(
  { db, documents }: ApiDeps,
  sender: Participant,
  raw: Record<string, string | undefined>,
  content: Readable,
  contentType: string,
) {
  const parsed = uploadFields.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!parsed.success) throw invalidInput(Errors.invalid_request, parsed.error.issues, '(fields)');
  const fields: UploadFields = parsed.data;
  // Kept in the blob's metadata, which Azure caps at 8 KB and wants in ASCII.
  if (!/^[\x20-\x7e]{1,200}$/.test(contentType)) {
    throw new CodedError(Errors.invalid_request, { problems: 'content-type: at most 200 printable ASCII characters' }, [
      { field: 'content-type', message: 'at most 200 printable ASCII characters' },
    ]);
  }
  if (!sender.documentPublicKey) throw new CodedError(Errors.sender_without_key, { id: sender.id });
  const recipients = await recipientsOf(db, sender, fields.recipients);
  return documents.store({ sender, folder: fields.folder, name: fields.name, kind: fields.kind, contentType, recipients, content });
}

function uploadRoute(app: DocumentsRouter, deps: ApiDeps) {
  const { documents } = deps;
  app.openapi(routes.upload, async (c) => {
    const sender = actingParticipant(c);
    const declared = Number(c.req.header('content-length') ?? NaN);
    const limit = documents.maxBytes + (isMultipart(c) ? MULTIPART_OVERHEAD : 0);
    // Refused before a byte is read; an undeclared length is counted as it streams.
    if (declared > limit) {
      c.header('connection', 'close');
      throw documentTooLarge(documents.maxBytes);
    }
    try {
      const row = isMultipart(c)
        ? await readMultipart(
            c,
            (fields, file, info) =>
              storeUpload(
                deps,
                sender,
                { ...c.req.query(), ...fields, name: fields.name ?? c.req.query('name') ?? info.filename },
                file,
                info.mimeType,
              ),
            (stored) => documents.discard(stored),
          )
        : await storeUpload(deps, sender, c.req.query(), requestBody(c), c.req.header('content-type') ?? 'application/octet-stream');
      return c.json(documentView(row), 201);
    } catch (error) {
      // The rest of the body is not wanted: close the connection rather than read it.
      c.header('connection', 'close');
      throw error;
    }
  });
}

function listRoute(app: DocumentsRouter, { db }: ApiDeps) {
  app.openapi(routes.list, async (c) => {
    const query = c.req.valid('query');
    const page = await listDocuments(db, {
      visibleTo: actingParticipant(c).id,
      owner: query.owner,
      folder: query.folder,
      name: query.name,
      kind: query.kind,
      hash: query.hash,
      box: query.box,
      includeDeleted: query.deleted === 'true',
      limit: query.limit,
      after: query.cursor === undefined ? undefined : Number(query.cursor),
    });
    return c.json({ documents: page.rows.map(documentView), nextCursor: page.next === undefined ? null : String(page.next) }, 200);
  });
}

/** The document, 404 when there is none; `read` also requires the caller to be its sender or a recipient. */
async function documentFor(db: ApiDeps['db'], c: Context, id: string, access: 'read' | 'verify'): Promise<DocumentRow> {
  const row = DOCUMENT_ID_PATTERN.test(id) ? await getDocument(db, id.toLowerCase()) : undefined;
  if (!row) throw new CodedError(Errors.document_not_found, { id });
  const caller = actingParticipant(c);
  if (access === 'read' && !canRead(row, caller.id)) {
    throw new CodedError(Errors.not_a_recipient, { caller: caller.id, id: row.id });
  }
  return row;
}

/** HEAD, download, metadata and versions of a document the caller may read. */
function readRoutes(app: DocumentsRouter, { db, documents }: ApiDeps) {
  // Hono answers HEAD with the GET route (dropping the body), so the HEAD operation is documented
  // here and answered by the download handler below.
  app.openAPIRegistry.registerPath(routes.head);

  app.openapi(routes.download, async (c) => {
    const row = await documentFor(db, c, c.req.valid('param').id, 'read');
    // Answered from the index: a HEAD must not open (and then abandon) the content.
    if (c.req.method === 'HEAD') {
      if (row.deletedAt) return c.body(null, 410);
      return c.body(null, 200, headHeaders(row));
    }
    // Deleted, missing or altered content is refused with its own code (document_deleted, hash_mismatch, ...).
    const opened = await documents.open(row, actingParticipant(c));
    // Should the content still turn out altered mid-stream, the stream errors and the response is cut short.
    return new Response(Readable.toWeb(opened.content) as ReadableStream, { status: 200, headers: downloadHeaders(row, opened) });
  });

  app.openapi(routes.metadata, async (c) => {
    const row = await documentFor(db, c, c.req.valid('param').id, 'read');
    return c.json(documentView(row), 200);
  });

  app.openapi(routes.versions, async (c) => {
    const row = await documentFor(db, c, c.req.valid('param').id, 'read');
    const versions = await documentVersions(db, row, actingParticipant(c).id);
    return c.json({ path: `/${row.owner}/${row.folder}/${row.name}`, versions: versions.map(documentView) }, 200);
  });
}

function headHeaders(row: DocumentRow): Record<string, string> {
  return {
    'content-type': row.contentType,
    'content-length': String(row.size),
    'tracewell-document-id': row.id,
    'tracewell-document-version': String(row.version),
    'tracewell-document-hash': row.hash,
    'tracewell-document-kind': row.kind,
  };
}

function downloadHeaders(row: DocumentRow, opened: OpenedDocument): Record<string, string> {
  const { envelope } = opened;
  return {
    'content-type': envelope.contentType,
    'content-length': String(envelope.size),
    'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(row.name)}`,
    'tracewell-document-id': row.id,
    'tracewell-document-version': String(row.version),
    'tracewell-document-hash': envelope.hash,
    'tracewell-document-kind': envelope.kind,
    'tracewell-signer': `${envelope.sender.id} ${envelope.sender.address}`,
    'tracewell-signed-at': new Date(envelope.timestamp).toISOString(),
    'tracewell-signature-verified': 'true',
    'tracewell-hash-verified': 'true',
    // `recomputed`: just now, in full; `unchanged`: the blob is byte for byte the one last hashed.
    'tracewell-hash-check': opened.hashCheck,
  };
}

function verifyRoute(app: DocumentsRouter, { db, documents, registry }: ApiDeps) {
  app.openapi(routes.verify, async (c) => {
    const row = await documentFor(db, c, c.req.valid('param').id, 'verify');
    const check = await documents.check(row);
    const anchors = check.envelope ? await anchorsOf(db, registry, row.hash as Hex) : [];
    return c.json(verification(row, check, anchors), 200);
  });
}

/** The verify answer: each layer's check, and the certificates on chain that carry the document's hash. */
function verification(row: DocumentRow, check: DocumentCheck, anchors: Anchors) {
  const signer = check.envelope?.sender;
  const anchorResult =
    anchors.length > 0
      ? {
          ok: true,
          anchors: anchors.map((a) => ({
            ...a,
            issuedBySigner: signer !== undefined && a.issuerAddress.toLowerCase() === signer.address,
          })),
        }
      : { ok: false, code: 'not_anchored', message: `no part carries a certificate with hash ${row.hash} on chain`, anchors: [] };
  const { envelope: _envelope, row: _row, ...layers } = check;
  return {
    document: {
      id: row.id,
      hash: row.hash,
      kind: row.kind,
      sender: row.owner,
      version: row.version,
      signedAt: row.signedAt.toISOString(),
    },
    valid: check.ok,
    anchored: anchorResult.ok,
    checks: { metadata: layers.metadata, signature: layers.signature, content: layers.content, anchor: anchorResult },
  };
}

function deleteRoute(app: DocumentsRouter, { db, documents, registry }: ApiDeps) {
  app.openapi(routes.delete, async (c) => {
    const row = await documentFor(db, c, c.req.valid('param').id, 'read');
    const caller = actingParticipant(c);
    if (row.owner !== caller.id) throw new CodedError(Errors.not_owner, { owner: row.owner, id: row.id });
    if (row.deletedAt) return c.body(null, 204);
    // Certificates this owner issued with the document; another issuer's copy of the same content is theirs.
    const anchors = (await anchorsOf(db, registry, row.hash as Hex)).filter(
      (a) => a.issuerAddress.toLowerCase() === caller.address.toLowerCase(),
    );
    if (anchors.length > 0 && c.req.valid('query').force !== 'true') {
      throw new CodedError(
        Errors.document_anchored,
        { id: row.id, parts: anchors.map((a) => a.partId).join(', ') },
        {
          parts: anchors.map((a) => a.partId),
        },
      );
    }
    // Marked first: a blob left behind by a failure is unreachable, never a row without its content.
    await markDocumentDeleted(db, row.id, caller.id);
    await documents.remove(row);
    return c.body(null, 204);
  });
}
