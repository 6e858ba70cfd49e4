import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Hono } from 'hono';
import { entityTag } from './conditional.js';
import type { AppEnv } from './context.js';
import type { PublicRoute } from './public-route.js';
import { DOCS_HEADERS } from './security-headers.js';

/**
 * Swagger UI, served by the app itself from the `swagger-ui-dist` package, so `/docs` works with
 * the network off. On Lambda the bundle carries the same files (DOCS_ASSETS_DIR).
 */
// A Map, not an object literal: `/docs/assets/__proto__` must not find what every object has.
const assets = new Map([
  ['swagger-ui.css', 'text/css; charset=utf-8'],
  ['swagger-ui-bundle.js', 'text/javascript; charset=utf-8'],
  ['swagger-ui-standalone-preset.js', 'text/javascript; charset=utf-8'],
  ['favicon-32x32.png', 'image/png'],
]);

/** The files of `swagger-ui-dist` the docs page serves (the Lambda bundle copies these). */
export const SWAGGER_UI_FILES = [...assets.keys()];

/** The page's configuration script, served beside the files of `swagger-ui-dist`. */
export const DOCS_INIT_FILE = 'swagger-ui-init.js';

/** The documentation routes: public, and outside the OpenAPI document they serve. */
export const DOCS_PUBLIC_ROUTES: readonly PublicRoute[] = [
  { method: 'GET', path: '/openapi.json' },
  { method: 'GET', path: '/docs' },
  { method: 'GET', path: '/docs/assets/{name}' },
];

export function swaggerUiDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('swagger-ui-dist/package.json'));
}

const page = (title: string) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title}</title>
  <link rel="icon" type="image/png" href="docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="docs/assets/swagger-ui-bundle.js"></script>
  <script src="docs/assets/${DOCS_INIT_FILE}"></script>
</body>
</html>`;

// Inline scripts would need a CSP exception; a served file does not.
const init = `window.ui = SwaggerUIBundle({
  url: new URL('openapi.json', document.baseURI.replace(/docs\\/?$/, '')).href,
  dom_id: '#swagger-ui',
  deepLinking: true,
  persistAuthorization: true,
  // Swagger UI's default sends the document's URL to validator.swagger.io for a badge: a third-party
  // call from every docs page view, and a broken image with the network off.
  validatorUrl: null,
});`;

interface Asset {
  readonly body: Uint8Array<ArrayBuffer>;
  readonly etag: string;
}

export function mountDocs(app: Hono<AppEnv>, options: { title: string; assetsDir?: string }): void {
  const cache = new Map<string, Asset>();
  const load = async (name: string): Promise<Asset> => {
    let asset = cache.get(name);
    if (!asset) {
      const body = new Uint8Array(await readFile(join(options.assetsDir ?? swaggerUiDir(), name)));
      asset = { body, etag: entityTag(body) };
      cache.set(name, asset);
    }
    return asset;
  };
  const html = page(options.title);
  const htmlTag = entityTag(html);
  const initTag = entityTag(init);

  // Relative asset URLs ("docs/assets/…") resolve the same under "/docs" and "/prod/docs".
  app.get('/docs', (c) =>
    c.body(html, 200, {
      ...DOCS_HEADERS,
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      etag: htmlTag,
    }),
  );
  app.get(`/docs/assets/${DOCS_INIT_FILE}`, (c) =>
    c.body(init, 200, {
      ...DOCS_HEADERS,
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=300',
      etag: initTag,
    }),
  );
  app.get('/docs/assets/:name', async (c) => {
    const name = c.req.param('name');
    const type = assets.get(name);
    if (!type) return c.notFound();
    const asset = await load(name);
    return c.body(asset.body, 200, {
      ...DOCS_HEADERS,
      'content-type': type,
      'cache-control': 'public, max-age=86400',
      etag: asset.etag,
    });
  });
}
