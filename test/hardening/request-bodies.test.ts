import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modules } from '../../src/modules/index.js';
import { createLogger } from '../../src/platform/logger.js';
import { type LocalAdapters, localAdapters } from '../../src/runtime/local/adapters.js';
import { addUser, createLocalIssuer, type LocalIssuer, signIn } from '../auth/fixtures.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { expectProblem } from '../support/fixture-app.js';

/**
 * Every request body of every route, read from the OpenAPI document (a new route is covered with
 * no edit here): each says `additionalProperties: false`, and a field it does not know is refused
 * with a problem naming that field — a misspelt `hasWaitlst` is never dropped without a word.
 */

interface JsonSchema {
  $ref?: string;
  additionalProperties?: unknown;
  type?: string;
}

interface BodyOperation {
  readonly method: string;
  readonly path: string;
  readonly schema: JsonSchema;
}

interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>
  >;
  components: { schemas: Record<string, JsonSchema> };
}

const UNKNOWN = 'zzNotAField';

describe('request bodies of every route, from the OpenAPI document', () => {
  let app: TestApp;
  let issuer: LocalIssuer;
  let adapters: LocalAdapters | undefined;
  let bearer: string;
  let operations: BodyOperation[];

  beforeAll(async () => {
    issuer = await createLocalIssuer();
    app = await createTestApp({
      modules,
      ports: (container) => {
        adapters = localAdapters({ modules, logger: createLogger('silent'), container });
        return { ...adapters.ports, tokens: issuer.tokens };
      },
    });
    await addUser(app, 'body-checker');
    bearer = (await signIn(app, 'body-checker')).access_token;
    const document = (await (
      await app.call('/openapi.json', { key: null })
    ).json()) as OpenApiDocument;
    const resolve = (schema: JsonSchema): JsonSchema =>
      schema.$ref
        ? (document.components.schemas[schema.$ref.replace('#/components/schemas/', '')] ?? {})
        : schema;
    operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).flatMap(([method, operation]) => {
        const schema = operation.requestBody?.content?.['application/json']?.schema;
        return schema ? [{ method: method.toUpperCase(), path, schema: resolve(schema) }] : [];
      }),
    );
  });

  afterAll(async () => {
    await adapters?.stop();
    await issuer?.cleanup();
  });

  it('finds the request bodies of every module that takes one', () => {
    const paths = operations.map((op) => `${op.method} ${op.path}`);

    expect(paths).toEqual(
      expect.arrayContaining([
        'POST /events',
        'PUT /events/{eventId}',
        'POST /users',
        'POST /registrations',
        'POST /age-groups',
        'POST /enrollments',
        'POST /workflow/submit',
        'POST /sla-errors',
        'POST /auth/token',
      ]),
    );
  });

  it('declares additionalProperties: false on every request body', () => {
    const open = operations
      .filter((op) => op.schema.type !== 'object' || op.schema.additionalProperties !== false)
      .map((op) => `${op.method} ${op.path}`);

    expect(open).toEqual([]);
  });

  it('refuses a field it does not know on every route, naming the field', async () => {
    for (const op of operations) {
      const res = await app.call(op.path.replace(/\{[^}]+\}/g, 'x'), {
        method: op.method,
        key: null,
        headers: { authorization: `Bearer ${bearer}` },
        json: { [UNKNOWN]: 1 },
      });

      const route = `${op.method} ${op.path}`;
      expect([400, 422], route).toContain(res.status);
      const problem = await expectProblem(res, res.status, 'REQUEST.VALIDATION_FAILED');
      expect(problem.errors, route).toContainEqual({
        path: 'body',
        message: expect.stringMatching(
          new RegExp(`^unknown field "${UNKNOWN}" \\(the fields are `),
        ),
      });
    }
  });
});
