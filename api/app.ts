// The Hono application: one route module per resource, each route defined with its schemas (which
// validate it and make /openapi.json), JSON errors everywhere, every request authenticated (but the
// health check and the docs).
import { RestError } from '@azure/storage-blob';
import { OpenAPIHono } from '@hono/zod-openapi';
import { authenticate } from './auth.js';
import { DEFAULT_BODY_MAX_BYTES, limitBodies } from './body-limit.js';
import type { ApiDeps } from './deps.js';
import { contractRoutes } from './contract-gateway.js';
import { apiDocument, docsRoutes, undocumentedRoutes } from './docs.js';
import { documentRoutes } from './documents.js';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { errorResponse } from './error-response.js';
import { eventStreamRoutes } from './event-stream.js';
import { eventSubscriptionRoutes } from './event-subscriptions.js';
import { healthRoutes } from './health.js';
import { refuseControlCharacters } from './input-limits.js';
import { ledgerActionRoutes } from './ledger-actions.js';
import { lifecycleRoutes } from './lifecycles.js';
import { lifecycleVersionRoutes } from './lifecycle-versions.js';
import { opsRoutes } from './ops.js';
import { participantRoutes } from './participants.js';
import { partRoutes } from './parts.js';
import { provenanceRoutes } from './provenance.js';

export interface ApiOptions {
  /** Largest request body but a document upload's, in bytes (API_BODY_MAX_BYTES). */
  bodyMaxBytes?: number;
}

export function createApi(deps: ApiDeps, log: (line: string) => void = console.error, options: ApiOptions = {}): OpenAPIHono {
  const app = new OpenAPIHono();
  // Control characters in a path or query never reach a route (nor the key lookup).
  app.use('*', refuseControlCharacters);
  let document: object | undefined;
  app.route(
    '/',
    docsRoutes(() => document!),
  );
  app.route('/healthz', healthRoutes(deps));
  // Everything but the health check acts as the participant of an API key.
  app.use('*', authenticate(deps.db));
  // Every body is read under the limit; a document upload streams under its own (DOCUMENT_MAX_BYTES).
  app.use(
    '*',
    limitBodies(options.bodyMaxBytes ?? DEFAULT_BODY_MAX_BYTES, (c) => c.req.method === 'POST' && c.req.path === '/documents'),
  );
  app.route('/lifecycles', lifecycleRoutes(deps));
  app.route('/lifecycles', lifecycleVersionRoutes(deps));
  app.route('/parts', provenanceRoutes(deps));
  app.route('/parts', ledgerActionRoutes(deps));
  app.route('/parts', partRoutes(deps));
  app.route('/participants', participantRoutes(deps));
  app.route('/documents', documentRoutes(deps));
  app.route('/events/subscriptions', eventSubscriptionRoutes(deps));
  app.route('/events', eventStreamRoutes(deps, { log }));
  app.route('/contracts', contractRoutes(deps));
  app.route('/ops', opsRoutes(deps));
  // A route without a definition would be missing from /openapi.json and unvalidated: refuse to start.
  const undocumented = undocumentedRoutes(app);
  if (undocumented.length > 0) throw new Error(`routes without an OpenAPI definition: ${undocumented.join(', ')}`);
  document = apiDocument(app); // at start-up, so a schema that cannot be described fails here, not on a request
  app.notFound((c) => errorResponse(c, new CodedError(Errors.not_found, { what: `route for ${c.req.method} ${c.req.path}` })));
  app.onError((error, c) => {
    // A coded 5xx (e.g. a key store's) is the server's own trouble: logged, and answered without its detail.
    if (error instanceof CodedError && error.status < 500) return errorResponse(c, error);
    // Blob storage refused or failed: nothing was half-stored, and trying later may work.
    if (error instanceof RestError) {
      log(`blob storage failed on ${c.req.method} ${c.req.path}: ${error.statusCode ?? ''} ${error.code ?? ''} ${error.message}`);
      return errorResponse(c, new CodedError(Errors.storage_unavailable, { reason: error.code ?? error.statusCode ?? 'no answer' }));
    }
    log(`internal error on ${c.req.method} ${c.req.path}: ${error.stack ?? error.message}`);
    return errorResponse(c, new CodedError(Errors.internal_error));
  });
  return app;
}
