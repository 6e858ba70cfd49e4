import { createHash } from 'node:crypto';
import type { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context as LambdaContext } from 'aws-lambda';
import type { MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import * as z from 'zod/mini';
import { AppError, badRequest } from '../errors.js';
import { onFirstUse } from '../on-first-use.js';
import { IDEMPOTENCY_WINDOW_SECONDS } from '../request-key.js';
import type { AppEnv } from './context.js';
import type { RouteConfig } from './routes.js';

export interface IdempotencyOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /**
   * How long a first request may hold its key before a retry may take over. Without this bound a
   * process that died mid-request would leave the key answering 409 until it expired.
   */
  readonly inFlightSeconds?: number;
}

interface StoredResponse {
  status: number;
  contentType: string | null;
  location: string | null;
  body: string;
}

/** A JSON value, as Powertools types the payload it hashes. */
type Json = Parameters<DynamoDBPersistenceLayer['getRecord']>[0];

/** Thrown inside the idempotent function so that Powertools forgets responses not worth replaying. */
class NotRemembered extends Error {
  override name = 'NotRemembered';
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/**
 * Powertools idempotency, its DynamoDB persistence layer and the JMESPath engine its config
 * compiles, loaded by the first request that carries an Idempotency-Key: a request without one
 * needs none of it, so the API does not load it as it starts (infra/bundling.ts puts what an
 * `import()` loads in a chunk of its own).
 */
const powertools = onFirstUse(async () => {
  const [idempotency, dynamodb] = await Promise.all([
    import('@aws-lambda-powertools/idempotency'),
    import('@aws-lambda-powertools/idempotency/dynamodb'),
  ]);
  return { ...idempotency, ...dynamodb };
});

/** The header as create routes document it. */
export const idempotencyKeyHeader = z.object({
  'idempotency-key': z.optional(
    z.string().check(
      z.meta({
        description: 'Replays the first response for 24 h when sent again with the same body.',
      }),
    ),
  ),
});

/**
 * Route middleware for create routes: runs the app's Idempotency-Key store (set by
 * createHttpApp) for this route. A route definition stays a module-level constant this way.
 */
export const idempotent: MiddlewareHandler<AppEnv> = async (c, next) => {
  const store = c.get('idempotency');
  if (!store) return next();
  return store(c, next);
};

/** A create route with Idempotency-Key: the documented header and the middleware, together. */
export function withIdempotencyKey<R extends RouteConfig>(
  route: R,
): R & {
  middleware: [typeof idempotent];
  request: NonNullable<R['request']> & { headers: typeof idempotencyKeyHeader };
} {
  return {
    ...route,
    middleware: [idempotent],
    request: { ...route.request, headers: idempotencyKeyHeader } as NonNullable<R['request']> & {
      headers: typeof idempotencyKeyHeader;
    },
  };
}

/**
 * `Idempotency-Key` for create routes, on Powertools' idempotency utility and its DynamoDB
 * persistence layer. The key is scoped to the caller, the method and the path; the body (canonicalised by
 * Powertools before hashing) is the payload that must match. Same key + same body replays the
 * stored status and body; same key + other body is 422; a key whose first request is still
 * running is 409. 5xx answers are not stored, so a retry after a transient failure runs again;
 * nor is a refusal to a client that went away (REQUEST.ABORTED), so its retry runs again too.
 */
export function idempotency(options: IdempotencyOptions): MiddlewareHandler<AppEnv> {
  // Made by the first request with a key, once Powertools is loaded.
  let store: DynamoDBPersistenceLayer | undefined;
  const inFlightMillis = (options.inFlightSeconds ?? 60) * 1000;

  return async (c, next) => {
    const key = c.req.header('idempotency-key');
    if (key === undefined) return next();
    if (!KEY_PATTERN.test(key)) {
      throw badRequest(
        'IDEMPOTENCY.KEY_INVALID',
        'Idempotency-Key must be 1–255 visible ASCII characters.',
      );
    }
    const text = await c.req.text();
    const body: Json = text.length === 0 ? null : JSON.parse(text);
    // Scoped by the concrete path, not the route pattern: the same key and body sent to
    // /things/a/register and /things/b/register are two different requests.
    const scope = `${c.get('caller')?.id ?? 'anonymous'} ${c.req.method} ${c.req.path}`;
    c.set('requestKey', createHash('sha256').update(`${scope} ${key}`).digest('base64url'));

    const { DynamoDBPersistenceLayer, IdempotencyConfig, makeIdempotent } = await powertools();
    store ??= new DynamoDBPersistenceLayer({
      tableName: options.tableName,
      awsSdkV3Client: options.client,
    });
    const persistenceStore = store;
    const config = new IdempotencyConfig({
      eventKeyJmesPath: 'key',
      payloadValidationJmesPath: 'body',
      // The window sla-errors' request marks live for too (request-key.ts).
      expiresAfterSeconds: IDEMPOTENCY_WINDOW_SECONDS,
      lambdaContext: { getRemainingTimeInMillis: () => inFlightMillis } as LambdaContext,
    });
    let ranHandler = false;
    const createOnce = makeIdempotent(
      async (_payload: { key: string; body: unknown }): Promise<StoredResponse> => {
        ranHandler = true;
        await next();
        const response = c.res;
        // A failure is not the key's answer, nor is a refusal given to a client that had gone
        // away (it is REQUEST.ABORTED, whatever happened): its retry runs again. A success is,
        // even then — it committed, and the retry must get it back.
        if (response.status >= 500 || (response.status >= 400 && c.req.raw.signal?.aborted)) {
          throw new NotRemembered();
        }
        return {
          status: response.status,
          contentType: response.headers.get('content-type'),
          location: response.headers.get('location'),
          body: await response.clone().text(),
        };
      },
      { persistenceStore, config, keyPrefix: 'roster' },
    );

    const payload = { key: `${scope} ${key}`, body };
    let stored: StoredResponse;
    try {
      stored = await createOnce(payload);
    } catch (error) {
      if (ranHandler) {
        if (error instanceof NotRemembered) return;
        throw error;
      }
      if (error instanceof Error && error.name === 'IdempotencyAlreadyInProgressError') {
        throw inProgress(await claimSecondsLeft(persistenceStore, payload, inFlightMillis));
      }
      throw translate(error);
    }
    if (ranHandler) return;
    const headers: Record<string, string> = { 'idempotent-replayed': 'true' };
    if (stored.contentType) headers['content-type'] = stored.contentType;
    if (stored.location) headers.location = stored.location;
    return c.body(stored.body, stored.status as ContentfulStatusCode, headers);
  };
}

/**
 * Seconds until the key's claim lapses and a retry may take over: the claim's own expiry, read
 * again (Powertools' in-progress error does not carry it). A first request that finishes sooner
 * makes the key answer its replay sooner; one that died holds the key this long, so a client
 * told less would only be refused again. If the claim can't be read, the longest it can hold.
 */
async function claimSecondsLeft(
  store: DynamoDBPersistenceLayer,
  payload: { key: string; body: Json },
  inFlightMillis: number,
): Promise<number> {
  const claim = await store.getRecord(payload).catch(() => undefined);
  const expiry = claim?.inProgressExpiryTimestamp;
  const millisLeft = expiry === undefined ? inFlightMillis : expiry - Date.now();
  return Math.max(1, Math.ceil(millisLeft / 1000));
}

function inProgress(retryAfter: number): AppError {
  return new AppError('conflict', 'IDEMPOTENCY.IN_PROGRESS', 'Conflict', {
    detail: `A request with this Idempotency-Key is still being processed; retry in ${retryAfter} s.`,
    retryAfter,
  });
}

function translate(error: unknown): unknown {
  const name = error instanceof Error ? error.name : '';
  switch (name) {
    case 'IdempotencyValidationError':
      return new AppError('validation', 'IDEMPOTENCY.KEY_REUSED', 'Unprocessable Content', {
        detail: 'This Idempotency-Key was already used with a different request body.',
      });
    case 'IdempotencyPersistenceLayerError':
    case 'IdempotencyInconsistentStateError':
      return new AppError('unavailable', 'IDEMPOTENCY.UNAVAILABLE', 'Service Unavailable', {
        detail: 'The idempotency store is unavailable; retry later.',
        retryAfter: 1,
        cause: error,
      });
    default:
      return error;
  }
}
