import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import { routePath } from 'hono/route';
import { isDependencyUnavailable } from '../dynamo/errors.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';
import { type AuthOptions, authenticate } from './auth.js';
import { checkBody } from './body.js';
import { conditionalGet } from './conditional.js';
import type { AppEnv } from './context.js';
import {
  CORS_ALLOW_HEADERS,
  CORS_ALLOW_METHODS,
  CORS_EXPOSE_HEADERS,
  CORS_MAX_AGE_SECONDS,
} from './headers.js';
import { createRouter } from './openapi.js';
import { internalErrorResponse, problemResponse } from './problem.js';
import { appPublicRoutes, type PublicRoute, publicRouteMatcher } from './public-routes.js';
import type { Router } from './routes.js';

export interface HttpAppOptions {
  readonly logger: Logger;
  readonly corsOrigins: readonly string[];
  readonly auth: Omit<AuthOptions, 'isPublic'>;
  /** The Idempotency-Key store the `idempotent` route middleware uses (see idempotency.ts). */
  readonly idempotency?: MiddlewareHandler<AppEnv>;
  /** Public routes mounted outside the OpenAPI document (static assets), besides the docs. */
  readonly publicRoutes?: readonly PublicRoute[];
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The one HTTP app: both runtimes serve this object. Middleware order matters: request id first
 * (every later log line and error carries it: the client's `x-request-id` when valid, else API
 * Gateway's id of the request on Lambda, else a new UUID), then CORS (preflights answer without a key), then
 * authentication before routing, then body limits and JSON checks, then conditional GET (ETag,
 * 304), then the module routes.
 */
export function createHttpApp(options: HttpAppOptions): Router<AppEnv> {
  const { logger } = options;
  const app = createRouter();
  // Public = declared `security: []` by whichever router mounted the route (read once, at the
  // first request, when every router is in), plus the documentation pages.
  let isPublic: ((method: string, path: string) => boolean) | undefined;
  const isPublicRoute = (method: string, path: string) => {
    isPublic ??= publicRouteMatcher([...appPublicRoutes(app), ...(options.publicRoutes ?? [])]);
    return isPublic(method, path);
  };

  app.use('*', async (c, next) => {
    const given = c.req.header('x-request-id');
    const requestId =
      given && REQUEST_ID.test(given) ? given : (gatewayRequestId(c) ?? randomUUID());
    c.set('requestId', requestId);
    if (options.idempotency) c.set('idempotency', options.idempotency);
    // Set before the response exists (every response is built through the context), so the
    // Node adapter can write it as is instead of materialising a Response to edit its headers.
    c.header('x-request-id', requestId);
    const started = performance.now();
    try {
      await next();
    } finally {
      // The request line is an INFO line: build it only when INFO lines are written.
      if (logsRequests(logger))
        logger.info('request', {
          requestId,
          method: c.req.method,
          route: routePath(c, -1),
          status: c.res.status,
          durationMs: Math.round((performance.now() - started) * 100) / 100,
        });
    }
  });

  const allowAll = options.corsOrigins.includes('*');
  const exposeHeaders = CORS_EXPOSE_HEADERS.map((header) => header.toLowerCase());
  // Preflights: Hono's CORS middleware. Other requests: the same two headers (and Vary), set on
  // the context before the response exists, as above — Hono's middleware would edit the
  // response's headers instead, which costs the Node adapter its fast path on every request.
  const preflight = cors({
    origin: allowAll ? '*' : [...options.corsOrigins],
    allowMethods: CORS_ALLOW_METHODS,
    allowHeaders: [...CORS_ALLOW_HEADERS],
    exposeHeaders,
    maxAge: CORS_MAX_AGE_SECONDS,
  });
  const exposed = exposeHeaders.join(',');
  app.use('*', async (c, next) => {
    if (c.req.method === 'OPTIONS') return preflight(c, next);
    const origin = c.req.header('origin');
    const allowed = allowAll ? '*' : origin && options.corsOrigins.includes(origin) ? origin : '';
    if (allowed) c.header('access-control-allow-origin', allowed);
    c.header('access-control-expose-headers', exposed);
    if (!allowAll) c.header('vary', 'Origin', { append: true });
    await next();
  });

  app.use('*', authenticate({ ...options.auth, isPublic: isPublicRoute }));
  app.use('*', checkBody());
  app.use('*', conditionalGet());

  app.notFound((c) => {
    const allowed = allowedMethods(app, c.req.path);
    // A handler may call c.notFound() on a path whose method it serves (an unknown asset, a
    // missing resource): that is a 404, not a 405 whose Allow lists the very method used.
    if (allowed.length > 0 && !allowed.includes(c.req.method)) {
      return problemResponse(
        c,
        new AppError('method_not_allowed', 'REQUEST.METHOD_NOT_ALLOWED', 'Method Not Allowed', {
          detail: `${c.req.method} is not allowed on ${c.req.path}.`,
          headers: { allow: allowed.join(', ') },
        }),
      );
    }
    return problemResponse(
      c,
      new AppError('not_found', 'REQUEST.ROUTE_NOT_FOUND', 'Not Found', {
        detail: `No route for ${c.req.method} ${c.req.path}.`,
      }),
    );
  });

  app.onError((error, c) => respondToError(error, c, logger));
  return app;
}

/**
 * API Gateway's id for this request (REST proxy integration: `requestContext.requestId`), the id
 * its access logs and its own error answers carry; undefined outside Lambda.
 */
function gatewayRequestId(c: Context<AppEnv>): string | undefined {
  const event = c.env?.event as { requestContext?: { requestId?: unknown } } | undefined;
  const id = event?.requestContext?.requestId;
  return typeof id === 'string' && REQUEST_ID.test(id) ? id : undefined;
}

const VERBOSE_LEVELS = new Set(['TRACE', 'DEBUG', 'INFO']);
const logsRequests = (logger: Logger) => VERBOSE_LEVELS.has(logger.getLevelName());

export function respondToError(error: unknown, c: Context<AppEnv>, logger: Logger): Response {
  const requestId = c.get('requestId');
  if (c.req.raw.signal?.aborted) {
    // The client went away (closed the connection mid-body, or gave up waiting): nothing is
    // wrong on our side and nobody will read this answer.
    logger.info('client aborted the request', { requestId, method: c.req.method });
    return problemResponse(
      c,
      new AppError('bad_request', 'REQUEST.ABORTED', 'Bad Request', {
        detail: 'The client closed the request before it was complete.',
      }),
    );
  }
  if (error instanceof AppError) {
    if (error.kind === 'unavailable') {
      logger.warn('dependency unavailable', { requestId, code: error.code, error: error.cause });
    }
    return problemResponse(c, error);
  }
  if (error instanceof HTTPException && error.status < 500) {
    // Hono's own 4xx (e.g. a JSON validator that could not parse the body).
    const kind = error.status === 413 ? 'payload_too_large' : 'bad_request';
    return problemResponse(
      c,
      new AppError(
        kind,
        'REQUEST.INVALID',
        error.status === 413 ? 'Content Too Large' : 'Bad Request',
        {
          detail: error.message || 'The request could not be read.',
        },
      ),
    );
  }
  if (isDependencyUnavailable(error)) {
    logger.warn('dependency unavailable', { requestId, error });
    return problemResponse(
      c,
      new AppError('unavailable', 'DEPENDENCY.UNAVAILABLE', 'Service Unavailable', {
        detail: 'A dependency did not answer; retry later.',
        retryAfter: 1,
      }),
    );
  }
  logger.error('unhandled error', { requestId, error });
  return internalErrorResponse(c);
}

type RoutePattern = { method: string; pattern: RegExp };
const patternCache = new WeakMap<object, RoutePattern[]>();

/** Methods registered for a path, for 405 + Allow. Built once, on the first miss. */
function allowedMethods(app: Router<AppEnv>, path: string): string[] {
  let patterns = patternCache.get(app);
  if (!patterns) {
    patterns = app.routes
      .filter((route) => route.method !== 'ALL')
      .map((route) => ({
        method: route.method,
        pattern: new RegExp(
          `^${route.path
            .split('/')
            .map((part) =>
              part.startsWith(':')
                ? '[^/]+'
                : part === '*'
                  ? '.*'
                  : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
            )
            .join('/')}$`,
        ),
      }));
    patternCache.set(app, patterns);
  }
  const methods = new Set(patterns.filter((p) => p.pattern.test(path)).map((p) => p.method));
  if (methods.size === 0) return [];
  if (methods.has('GET')) methods.add('HEAD');
  methods.add('OPTIONS');
  return [...methods].sort();
}
