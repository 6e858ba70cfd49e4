import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { createCursorCodec } from '../../src/platform/dynamo/cursor.js';
import { AppError } from '../../src/platform/errors.js';
import { jsonContent } from '../../src/platform/http/openapi.js';
import { paginationQuery, setNextLink } from '../../src/platform/http/pagination.js';
import { createRoute } from '../../src/platform/http/routes.js';
import {
  type Call,
  createFixtureApp,
  createScratchTables,
  expectProblem,
  type ScratchTables,
} from '../support/fixture-app.js';

const { encode: encodeCursor, decode: decodeCursor } = createCursorCodec(Buffer.alloc(32, 1));

const rebase = (body: unknown) => Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');

/** The JSON inside a cursor (after its 16-byte MAC), and `body` under the original's MAC. */
const payloadOf = (cursor: string) =>
  JSON.parse(Buffer.from(cursor, 'base64url').subarray(16).toString('utf8'));
const resigned = (original: string, body: unknown) =>
  Buffer.concat([
    Buffer.from(original, 'base64url').subarray(0, 16),
    Buffer.from(JSON.stringify(body), 'utf8'),
  ]).toString('base64url');

function expectInvalidCursor(run: () => unknown): void {
  let thrown: unknown;
  try {
    run();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(AppError);
  expect(thrown).toMatchObject({ kind: 'bad_request', code: 'PAGINATION.CURSOR_INVALID' });
}

describe('cursor encoding', () => {
  it('round-trips a key and extra state', () => {
    const key = { PK: 'EVENT#e-1', SK: 'REG#u-1', LSI1SK: 'C#0197', n: 42 };

    const cursor = encodeCursor('event-registrations:e-1', key, { w: 3, mode: 'x' });
    const decoded = decodeCursor('event-registrations:e-1', cursor);

    expect(decoded).toEqual({ key, extra: { w: 3, mode: 'x' } });
  });

  it('produces a URL-safe cursor', () => {
    const cursor = encodeCursor('s', { PK: '???>>>~~~ünïcödé/+=' });

    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('decodes an empty extra when none was stored', () => {
    const decoded = decodeCursor('s', encodeCursor('s', { PK: 'a' }));

    expect(decoded.extra).toEqual({});
  });

  it.each([
    ['garbage', 'not a cursor!!'],
    ['an empty string', ''],
    ['base64 of plain text', Buffer.from('hello').toString('base64url')],
    ['base64 of a JSON array', rebase([1, 2])],
    ['a cursor of another version', rebase({ v: 2, s: 's', k: { PK: 'a' } })],
    ['a cursor without a key', rebase({ v: 1, s: 's', k: {} })],
    ['a cursor with a nested key value', rebase({ v: 1, s: 's', k: { PK: { S: 'a' } } })],
    ['a cursor with an array key', rebase({ v: 1, s: 's', k: ['PK'] })],
    ['a cursor with nested extra state', rebase({ v: 1, s: 's', k: { PK: 'a' }, x: { w: [] } })],
  ])('rejects %s as a bad request', (_, cursor) => {
    expectInvalidCursor(() => decodeCursor('s', cursor));
  });

  it('rejects a cursor from another list', () => {
    const cursor = encodeCursor('events:status=active', { PK: 'a' });

    expectInvalidCursor(() => decodeCursor('events:status=cancelled', cursor));
  });

  it('rejects a cursor whose scope was edited inside the payload', () => {
    const original = encodeCursor('user-registrations:alice', { PK: 'a' });
    const body = payloadOf(original);
    const tampered = resigned(original, { ...body, s: 'user-registrations:bob' });

    expectInvalidCursor(() => decodeCursor('user-registrations:alice', tampered));
  });

  it('rejects a cursor whose key or state was edited, even with the original signature', () => {
    const original = encodeCursor(
      'event-registrations:e-1',
      { PK: 'EVENT#e-1', SK: 'REG#u' },
      { w: 3 },
    );
    const body = payloadOf(original);

    expectInvalidCursor(() =>
      decodeCursor('event-registrations:e-1', resigned(original, { ...body, x: { w: 1000 } })),
    );
    expectInvalidCursor(() =>
      decodeCursor(
        'event-registrations:e-1',
        resigned(original, { ...body, k: { PK: 'EVENT#e-1', SK: 'REG#z' } }),
      ),
    );
  });

  it('rejects a cursor signed with another secret', () => {
    const foreign = createCursorCodec(Buffer.alloc(32, 2)).encode('s', { PK: 'a' });

    expectInvalidCursor(() => decodeCursor('s', foreign));
  });

  it('rejects a truncated cursor', () => {
    const cursor = encodeCursor('s', { PK: 'EVENT#e-1', SK: 'EVENT' });

    expectInvalidCursor(() => decodeCursor('s', cursor.slice(0, cursor.length - 6)));
  });

  it('rejects a cursor with a flipped first character', () => {
    const cursor = encodeCursor('s', { PK: 'EVENT#e-1', SK: 'EVENT' });
    const flipped = `${cursor[0] === 'A' ? 'B' : 'A'}${cursor.slice(1)}`;

    expectInvalidCursor(() => decodeCursor('s', flipped));
  });
});

describe('paged list route', () => {
  const ITEMS = 7;
  let tables: ScratchTables;
  let call: Call;
  let listId: string;

  beforeAll(async () => {
    tables = await createScratchTables();
    listId = randomUUID();
    await tables.dynamo.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [tables.events]: Array.from({ length: ITEMS }, (_, i) => ({
            PutRequest: {
              Item: { PK: `LIST#${listId}`, SK: `ITEM#${String(i).padStart(3, '0')}`, n: i },
            },
          })),
        },
      }),
    );

    const fixture = createFixtureApp();
    fixture.app.openapi(
      createRoute({
        method: 'get',
        path: '/lists/{listId}/items',
        request: {
          params: z.object({ listId: z.string() }),
          query: z.extend(paginationQuery, { q: z.optional(z.string()) }),
        },
        responses: { 200: jsonContent(z.array(z.number()), 'Items') },
      }),
      async (c) => {
        const { listId: id } = c.req.valid('param');
        const { limit, cursor } = c.req.valid('query');
        const scope = `list:${id}`;
        const out = await tables.dynamo.doc.send(
          new QueryCommand({
            TableName: tables.events,
            KeyConditionExpression: 'PK = :pk',
            ExpressionAttributeValues: { ':pk': `LIST#${id}` },
            Limit: limit,
            ExclusiveStartKey: cursor ? decodeCursor(scope, cursor).key : undefined,
          }),
        );
        const last = out.LastEvaluatedKey;
        setNextLink(c, last ? encodeCursor(scope, last) : undefined);
        return c.json(
          (out.Items ?? []).map((item) => item.n as number),
          200,
        );
      },
    );
    call = fixture.call;
  });

  const nextLink = (res: Response): string | undefined => {
    const link = res.headers.get('link');
    if (link === null) return undefined;
    const match = /^<(\?[^>]*)>; rel="next"$/.exec(link);
    expect(match, link).not.toBeNull();
    return match?.[1];
  };

  it('walks every item exactly once by following Link: rel="next"', async () => {
    const seen: number[] = [];
    let target: string | undefined = `/lists/${listId}/items?limit=3`;
    let pages = 0;

    while (target !== undefined) {
      const res = await call(target);
      expect(res.status).toBe(200);
      seen.push(...((await res.json()) as number[]));
      const next = nextLink(res);
      target = next === undefined ? undefined : `/lists/${listId}/items${next}`;
      pages += 1;
      expect(pages).toBeLessThan(10);
    }

    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('keeps the other query parameters in the next link', async () => {
    const res = await call(`/lists/${listId}/items?q=keep%20me&limit=2`);

    const next = new URLSearchParams(nextLink(res)?.slice(1));
    expect(next.get('q')).toBe('keep me');
    expect(next.get('limit')).toBe('2');
    expect(next.get('cursor')).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it('replaces the previous cursor instead of adding a second one', async () => {
    const first = await call(`/lists/${listId}/items?limit=2`);
    const firstNext = nextLink(first) ?? '';

    const second = await call(`/lists/${listId}/items${firstNext}`);

    const params = new URLSearchParams(nextLink(second)?.slice(1));
    expect(params.getAll('cursor')).toHaveLength(1);
    expect(params.get('cursor')).not.toBe(new URLSearchParams(firstNext.slice(1)).get('cursor'));
  });

  it('sends no Link header on the last page', async () => {
    const res = await call(`/lists/${listId}/items?limit=50`);

    expect(await res.json()).toHaveLength(ITEMS);
    expect(res.headers.get('link')).toBeNull();
  });

  it('answers 400 problem for a garbage cursor', async () => {
    const res = await call(`/lists/${listId}/items?cursor=garbage`);

    await expectProblem(res, 400, 'PAGINATION.CURSOR_INVALID');
  });

  it('answers 400 problem for a cursor taken from another list', async () => {
    const other = encodeCursor(`list:${randomUUID()}`, { PK: `LIST#${listId}`, SK: 'ITEM#001' });

    const res = await call(`/lists/${listId}/items?cursor=${other}`);

    await expectProblem(res, 400, 'PAGINATION.CURSOR_INVALID');
  });

  it('answers 422 for a cursor longer than 4096 characters', async () => {
    const res = await call(`/lists/${listId}/items?cursor=${'a'.repeat(5000)}`);

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors?.[0]?.path).toBe('query.cursor');
  });

  it('answers 422 for a limit above 200', async () => {
    const res = await call(`/lists/${listId}/items?limit=201`);

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors?.[0]?.path).toBe('query.limit');
  });
});
