import * as z from 'zod/mini';
import { onFirstUse } from '../on-first-use.js';
import {
  type DomainEventPayloads,
  type DomainEventType,
  domainEventSchema,
} from '../outbox/outbox.js';
import { entityTag } from './conditional.js';
import type { AppEnv } from './context.js';
import { mountDocs } from './docs.js';
import { createRouter, jsonContent } from './openapi.js';
import { createRoute, type Router } from './routes.js';

export interface SystemInfo {
  readonly name: string;
  readonly version: string;
  readonly description: string;
}

export interface SystemRoutesOptions {
  readonly info: SystemInfo;
  /**
   * Resolves when the database answers; rejects otherwise. It is given up at the deadline
   * (`HEALTH_DEADLINE_MS`), whatever it is doing then (SDK retries included); the signal tells it
   * to stop.
   */
  readonly checkHealth: (signal: AbortSignal) => Promise<void>;
  readonly docsAssetsDir?: string | undefined;
  /** Tags the modules' routes use, with their descriptions. */
  readonly tags?: readonly { readonly name: string; readonly description: string }[];
  /**
   * The domain event catalogue and its payload schemas (built when the document is first asked
   * for): the document's `webhooks`.
   */
  readonly domainEvents?: readonly DomainEventType[];
  readonly domainEventSchemas?: () => DomainEventPayloads;
}

const IndexSchema = z
  .object({
    name: z.string(),
    version: z.string(),
    description: z.string(),
    links: z.object({ docs: z.string(), openapi: z.string(), health: z.string() }),
  })
  .check(z.meta({ id: 'ApiIndex' }));

const HealthSchema = z
  .object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.object({ database: z.enum(['ok', 'unavailable']) }),
  })
  .check(z.meta({ id: 'Health' }));

const index = createRoute({
  method: 'get',
  path: '/',
  tags: ['system'],
  summary: 'Name, version and links',
  security: [],
  responses: { 200: jsonContent(IndexSchema, 'API information') },
});

/** `/health` answers by then, 200 or 503 (the route's documented promise). */
export const HEALTH_DEADLINE_MS = 2000;

const health = createRoute({
  method: 'get',
  path: '/health',
  tags: ['system'],
  summary: 'Liveness and database reachability',
  description: `Answers within ${HEALTH_DEADLINE_MS / 1000} s: 503 when the database has not answered by then.`,
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
      const deadline = AbortSignal.timeout(HEALTH_DEADLINE_MS);
      await untilAborted(options.checkHealth(deadline), deadline);
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

/** `work`, or a rejection as soon as `signal` aborts if that comes first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    if (signal.aborted) return abort();
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/**
 * The document's generator (zod's JSON Schema conversion with it), loaded by the first request
 * for the document: nothing builds the document as the app starts. A Lambda bundle holds, in its
 * place, the document built when it was bundled (infra/bundling.ts), so a function never runs
 * the generator at all.
 */
const documentGenerator = onFirstUse(() => import('./openapi-document.js'));

/** The system routes, the OpenAPI document of everything mounted on `app`, and the docs page. */
export function mountSystemRoutes(app: Router<AppEnv>, options: SystemRoutesOptions): void {
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

  // The webhooks' part of the document (a schema per domain event type) is declared on the first
  // GET /openapi.json rather than as the app is built: nothing else reads it, and building those
  // schemas took about 2 ms of the API Lambda's ~75 ms start (docs/benchmarks.md §6).
  let webhooksRegistered = false;
  const registerWebhooks = () => {
    if (webhooksRegistered) return;
    webhooksRegistered = true;
    const schemas = options.domainEventSchemas?.();
    for (const entry of options.domainEvents ?? []) {
      app.openAPIRegistry.registerWebhook({
        method: 'post',
        path: entry.type,
        summary: entry.description,
        description:
          'Delivered to webhook endpoints subscribed to this type, signed to the Standard Webhooks spec (verify `webhook-signature` over `webhook-id`, `webhook-timestamp` and the raw body with the endpoint’s secret). At least once: deduplicate by `webhook-id`.',
        request: {
          headers: z.object({
            'webhook-id': z.string(),
            'webhook-timestamp': z.string().check(z.meta({ description: 'Unix seconds' })),
            'webhook-signature': z
              .string()
              .check(
                z.meta({ description: 'Space-separated `v1,<base64>`: one per active secret' }),
              ),
          }),
          body: {
            content: {
              'application/json': {
                schema: domainEventSchema(entry.type, schemas?.[entry.type]),
              },
            },
          },
        },
        responses: {
          200: {
            description:
              'Any 2xx acknowledges it; 410 disables the endpoint; anything else is retried.',
          },
        },
      });
    }
  };

  const document = {
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
  };
  // Built on the first request, once every router is mounted; again only if routes were added
  // since (a test app that declares routes after the fact).
  let served: { text: string; etag: string; declared: number } | undefined;
  app.get('/openapi.json', async (c) => {
    registerWebhooks();
    const registry = app.openAPIRegistry;
    const declared = registry.routes.length + registry.webhooks.length;
    if (served?.declared !== declared) {
      const { openApiDocumentText } = await documentGenerator();
      const text = openApiDocumentText(registry, document);
      served = { text, etag: entityTag(text), declared };
    }
    return c.body(served.text, 200, { 'content-type': 'application/json', etag: served.etag });
  });

  mountDocs(app, { title: `${options.info.name} API`, assetsDir: options.docsAssetsDir });
}
