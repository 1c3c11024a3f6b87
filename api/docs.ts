// The API's own description: `/openapi.json` (OpenAPI 3.1, generated from the route definitions)
// and `/docs`, Swagger UI served from the swagger-ui-dist package (no CDN: it works offline).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { OpenAPIHono } from '@hono/zod-openapi';
import { CodedError } from '../domain/errors/coded-error.js';
import { Errors } from '../domain/errors/catalogue.js';
import { route } from './openapi.js';

const VERSION = '0.1.0';

/** The OpenAPI 3.1 document of every route registered on `app`. */
export function apiDocument(app: OpenAPIHono) {
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    description: 'An API key: `Authorization: Bearer <key>`',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'X-Api-Key',
    description: 'The same API key, as a header',
  });
  return app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: {
      title: 'Tracewell API',
      version: VERSION,
      description:
        'Track and trace supply-chain parts on an Ethereum ledger. Every request acts as the participant of its API key. ' +
        'Errors answer `{ error: { code, message, details? } }`; invalid input answers 400 naming each field. ' +
        'Registered contracts have their own generated documents at `/contracts/{name}/openapi.json`.',
    },
    security: [{ bearer: [] }, { apiKey: [] }],
  });
}

/** Routes Hono serves that the document does not describe (the docs page's static files). */
export function undocumentedRoutes(app: OpenAPIHono, ignore: RegExp = /^\/docs\/assets\//): string[] {
  const normal = (path: string) => path.replace(/:([^/]+)/g, '{$1}').replace(/\/+$/, '') || '/';
  const documented = new Set(
    app.openAPIRegistry.definitions.flatMap((def) =>
      def.type === 'route' ? [`${def.route.method.toUpperCase()} ${normal(def.route.path)}`] : [],
    ),
  );
  return [
    ...new Set(app.routes.filter((r) => r.method !== 'ALL' && !ignore.test(r.path)).map((r) => `${r.method} ${normal(r.path)}`)),
  ].filter((key) => !documented.has(key));
}

const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'docs.js': 'text/javascript; charset=utf-8',
};

// The initializer is a file of its own, so the page's CSP needs no inline scripts.
const INITIALIZER = `window.ui = SwaggerUIBundle({
  url: 'openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  layout: 'StandaloneLayout',
});
`;

// Swagger UI sets inline styles and draws icons from data: URIs; everything else is this server's.
const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Tracewell API</title>
<link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
<link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="docs/assets/swagger-ui-bundle.js"></script>
<script src="docs/assets/swagger-ui-standalone-preset.js"></script>
<script src="docs/assets/docs.js"></script>
</body>
</html>
`;

/** `/openapi.json` and `/docs`; they need no API key (the page asks for one to try requests). */
export function docsRoutes(document: () => object): OpenAPIHono {
  const app = new OpenAPIHono();
  const assetDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const assets = new Map<string, Promise<Uint8Array | string>>();
  const tags = ['Documentation'];

  app.openapi(
    route({
      method: 'get',
      path: '/openapi.json',
      tags,
      summary: 'This document (OpenAPI 3.1)',
      security: [],
      responses: {
        200: { description: 'The OpenAPI document of this API', content: { 'application/json': { schema: { type: 'object' } } } },
      },
    }),
    (c) => c.json(document(), 200),
  );

  app.openapi(
    route({
      method: 'get',
      path: '/docs',
      tags,
      summary: 'Browsable documentation (Swagger UI) of this document, with requests to try',
      security: [],
      responses: { 200: { description: 'The docs page', content: { 'text/html': { schema: { type: 'string' } } } } },
    }),
    // Links are relative (`/docs` resolves them against its parent), so a proxy may mount the API under a prefix.
    (c) => c.html(PAGE, 200, { 'content-security-policy': CSP }),
  );

  app.get('/docs/assets/:file', async (c) => {
    const file = c.req.param('file');
    const type = ASSETS[file];
    if (!type) throw new CodedError(Errors.not_found, { what: `docs asset "${file}"` });
    if (!assets.has(file)) assets.set(file, file === 'docs.js' ? Promise.resolve(INITIALIZER) : readFile(join(assetDir, file)));
    const body = await assets.get(file)!;
    return c.body(typeof body === 'string' ? body : new Uint8Array(body), 200, {
      'content-type': type,
      'cache-control': 'public, max-age=86400',
    });
  });

  return app;
}
