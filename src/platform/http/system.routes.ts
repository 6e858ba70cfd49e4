import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { AppEnv } from './context.js';
import { mountDocs } from './docs.js';
import { createRouter, jsonContent } from './openapi.js';

export interface SystemInfo {
  readonly name: string;
  readonly version: string;
  readonly description: string;
}

export interface SystemRoutesOptions {
  readonly info: SystemInfo;
  /** Resolves when the database answers; rejects (or times out) otherwise. */
  readonly checkHealth: () => Promise<void>;
  readonly docsAssetsDir?: string | undefined;
  /** Tags the modules' routes use, with their descriptions. */
  readonly tags?: readonly { readonly name: string; readonly description: string }[];
}

const IndexSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    description: z.string(),
    links: z.object({ docs: z.string(), openapi: z.string(), health: z.string() }),
  })
  .openapi('ApiIndex');

const HealthSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.object({ database: z.enum(['ok', 'unavailable']) }),
  })
  .openapi('Health');

const index = createRoute({
  method: 'get',
  path: '/',
  tags: ['system'],
  summary: 'Name, version and links',
  security: [],
  responses: { 200: jsonContent(IndexSchema, 'API information') },
});

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['system'],
  summary: 'Liveness and database reachability',
  security: [],
  responses: {
    200: jsonContent(HealthSchema, 'The database answers'),
    503: jsonContent(HealthSchema, 'The database does not answer'),
  },
});

/** `GET /` and `GET /health`. */
export function systemRoutes(options: Pick<SystemRoutesOptions, 'info' | 'checkHealth'>) {
  const app = createRouter();
  app.openapi(index, (c) =>
    c.json(
      {
        ...options.info,
        links: { docs: '/docs', openapi: '/openapi.json', health: '/health' },
      },
      200,
    ),
  );

  app.openapi(health, async (c) => {
    try {
      await options.checkHealth();
      return c.json({ status: 'ok' as const, checks: { database: 'ok' as const } }, 200);
    } catch {
      c.header('retry-after', '1');
      return c.json(
        { status: 'unavailable' as const, checks: { database: 'unavailable' as const } },
        503,
      );
    }
  });
  return app;
}

/** The system routes, the OpenAPI document of everything mounted on `app`, and the docs page. */
export function mountSystemRoutes(app: OpenAPIHono<AppEnv>, options: SystemRoutesOptions): void {
  app.route('/', systemRoutes(options));

  app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'x-api-key',
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  });

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: options.info.name,
      version: options.info.version,
      description: options.info.description,
    },
    security: [{ ApiKey: [] }, { Bearer: [] }],
    tags: [
      { name: 'system', description: 'Health, documentation and API information' },
      ...(options.tags ?? []),
    ],
  });

  mountDocs(app, { title: `${options.info.name} API`, assetsDir: options.docsAssetsDir });
}
