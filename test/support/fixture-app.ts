import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import { eventsTable } from '../../src/modules/events/events.module.js';
import { createDynamoClients, type DynamoClients } from '../../src/platform/dynamo/client.js';
import { ensureTables } from '../../src/platform/dynamo/provision.js';
import { idempotencyTable } from '../../src/platform/dynamo/tables.js';
import { createHttpApp } from '../../src/platform/http/app.js';
import type { AppEnv, Caller } from '../../src/platform/http/context.js';
import type { Problem } from '../../src/platform/http/problem.js';
import type { Router } from '../../src/platform/http/routes.js';
import { createLogger } from '../../src/platform/logger.js';
import { dynamodbEndpoint } from './dynamodb.js';

/** The API key every test app accepts (test/support/app.ts re-exports it). */
export const TEST_API_KEY = 'test-key-0123456789';

/**
 * Fixture apps for platform tests: the real `createHttpApp` (request id, CORS, auth, body checks,
 * problem responses) with routes defined by the test, so the platform is tested without depending
 * on the modules being written next to it.
 */

export type CallInit = RequestInit & { json?: unknown; key?: string | null };
export type Call = (path: string, init?: CallInit) => Promise<Response>;

export interface FixtureAppOptions {
  readonly apiKeys?: readonly string[];
  readonly corsOrigins?: readonly string[];
  readonly verifyToken?: (token: string) => Promise<Caller>;
}

export interface FixtureApp {
  readonly app: Router<AppEnv>;
  readonly call: Call;
}

export function createFixtureApp(options: FixtureAppOptions = {}): FixtureApp {
  const app = createHttpApp({
    logger: createLogger('silent'),
    corsOrigins: options.corsOrigins ?? ['*'],
    auth: {
      apiKeySource: 'local',
      apiKeys: options.apiKeys ?? [TEST_API_KEY],
      ...(options.verifyToken ? { verifyToken: options.verifyToken } : {}),
    },
  });
  return { app, call: callerFor(app) };
}

/** `app.request` with an API key (unless `key: null`) and a JSON body filled in. */
export function callerFor(app: { request: Router<AppEnv>['request'] }): Call {
  return (path, init = {}) => {
    const { json, key, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (key !== null) headers.set('x-api-key', key ?? TEST_API_KEY);
    if (json !== undefined) {
      headers.set('content-type', 'application/json');
      rest.body = JSON.stringify(json);
    }
    return Promise.resolve(app.request(path, { ...rest, headers }));
  };
}

export interface ScratchTables {
  readonly dynamo: DynamoClients;
  readonly events: string;
  readonly idempotency: string;
}

/** Fresh events and idempotency tables on the run's DynamoDB Local. */
export async function createScratchTables(): Promise<ScratchTables> {
  const endpoint = dynamodbEndpoint();
  const prefix = `t${randomBytes(6).toString('hex')}`;
  const dynamo = createDynamoClients({ region: 'us-east-1', endpoint });
  const events = `${prefix}-events`;
  const idempotency = `${prefix}-idempotency`;
  await ensureTables(dynamo.client, [
    { definition: eventsTable, name: events },
    { definition: idempotencyTable, name: idempotency },
  ]);
  return { dynamo, events, idempotency };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const isUuid = (value: string | null): boolean => value !== null && UUID.test(value);

/** A client id no other test uses: `<label>-<12 hex>`. */
export const uniqueId = (label: string): string => `${label}-${randomBytes(6).toString('hex')}`;

/** Reads a JSON body after checking the status, showing the body when the status is wrong. */
export async function bodyOf<T>(res: Response, status: number): Promise<T> {
  const text = await res.text();
  expect({ status: res.status, body: text }).toMatchObject({ status });
  return JSON.parse(text) as T;
}

/** The target of `Link: <…>; rel="next"`, resolved against the path that was called. */
export function nextLink(res: Response, calledPath: string): string | undefined {
  const link = res.headers.get('link');
  if (link === null) return undefined;
  const match = /^<([^>]+)>;\s*rel="next"$/.exec(link);
  expect(match, `Link header ${link}`).not.toBeNull();
  const url = new URL(match?.[1] ?? '', new URL(calledPath, 'http://roster.test'));
  return `${url.pathname}${url.search}`;
}

/** Follows `rel="next"` from `path` until no link is left; returns every page in order. */
export async function allPages<T>(app: { readonly call: Call }, path: string): Promise<T[][]> {
  const pages: T[][] = [];
  let next: string | undefined = path;
  while (next !== undefined) {
    expect(pages.length, 'more pages than items: the links never end').toBeLessThan(50);
    const res = await app.call(next);
    pages.push(await bodyOf<T[]>(res.clone(), 200));
    next = nextLink(res, next);
  }
  return pages;
}

/**
 * Asserts the RFC 9457 shape every error shares and returns the body. `secrets` are strings that
 * must not appear anywhere in the body (table names, exception text).
 */
export async function expectProblem(
  res: Response,
  status: number,
  code?: string,
  secrets: readonly string[] = [],
): Promise<Problem> {
  const text = await res.text();
  expect({ status: res.status, body: text }).toMatchObject({ status });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(text) as Problem;
  expect(body).toMatchObject({
    type: expect.stringMatching(/^\/problems\/[a-z0-9-]+$/),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    code: code ?? expect.any(String),
    requestId: res.headers.get('x-request-id'),
  });
  expect(res.headers.get('x-request-id')).toBeTruthy();
  expect(text).not.toMatch(/\bstack\b|\n\s+at |arn:aws|Exception/);
  for (const secret of secrets) expect(text).not.toContain(secret);
  return body;
}
