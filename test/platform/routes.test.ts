import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as classic from 'zod';
import * as mini from 'zod/mini';
import { jsonBody, jsonContent, problemResponses } from '../../src/platform/http/openapi.js';
import type { Problem } from '../../src/platform/http/problem.js';
import { createRoute } from '../../src/platform/http/routes.js';
import { mountSystemRoutes } from '../../src/platform/http/system.routes.js';
import { createFixtureApp } from '../support/fixture-app.js';

/*
 * A route whose schemas are written with zod/mini is served and documented exactly as its twin
 * written with classic zod: the route layer works on zod's core types (validation through core
 * `safeParseAsync`, the document through core `toJSONSchema`), so modules can move their schemas
 * to zod/mini one file at a time.
 */

const { z } = classic;
const m = mini.z;

const ClassicThing = z
  .object({
    name: z.string().min(1).max(20).meta({ description: 'What it is called', example: 'Ada' }),
    size: z.number().int().min(1).max(10),
    kind: z.enum(['small', 'large']).optional().meta({ description: 'Defaults to `small`.' }),
    tag: z.literal('thing'),
    note: z.string().nullable().optional(),
    code: z.string().regex(/^[A-Z]{3}$/, 'must be three capital letters'),
    at: z.iso.datetime().optional(),
    tries: z.number().int().default(1),
  })
  .strict()
  .meta({ id: 'ClassicThing' });

const MiniThing = m
  .strictObject({
    name: m
      .string()
      .check(
        m.minLength(1),
        m.maxLength(20),
        m.meta({ description: 'What it is called', example: 'Ada' }),
      ),
    size: m.int().check(m.minimum(1), m.maximum(10)),
    kind: m
      .optional(m.enum(['small', 'large']))
      .check(m.meta({ description: 'Defaults to `small`.' })),
    tag: m.literal('thing'),
    note: m.optional(m.nullable(m.string())),
    code: m.string().check(m.regex(/^[A-Z]{3}$/, 'must be three capital letters')),
    at: m.optional(m.iso.datetime()),
    tries: m._default(m.int(), 1),
  })
  .check(m.meta({ id: 'MiniThing' }));

const routeOf = (
  name: string,
  thing: typeof ClassicThing | typeof MiniThing,
  params: classic.ZodType | mini.ZodMiniType,
  query: classic.ZodType | mini.ZodMiniType,
) =>
  createRoute({
    method: 'post',
    path: `/${name}/{thingId}`,
    summary: `Make a ${name} thing`,
    request: { params, query, body: jsonBody(thing) },
    responses: { 201: jsonContent(thing, 'Made'), ...problemResponses(422) },
  });

const classicRoute = routeOf(
  'classic',
  ClassicThing,
  z.object({ thingId: z.string().min(3).meta({ example: 'abc' }) }),
  z.object({ limit: z.coerce.number().min(1).max(5).default(2), cursor: z.string().optional() }),
);
const miniRoute = routeOf(
  'mini',
  MiniThing,
  m.object({ thingId: m.string().check(m.minLength(3), m.meta({ example: 'abc' })) }),
  m.object({
    limit: m._default(m.coerce.number().check(m.minimum(1), m.maximum(5)), 2),
    cursor: m.optional(m.string()),
  }),
);

function app() {
  const { app, call } = createFixtureApp();
  for (const route of [classicRoute, miniRoute]) {
    app.openapi(route, (c) =>
      c.json({ ...c.req.valid('json'), query: c.req.valid('query') } as never, 201),
    );
  }
  mountSystemRoutes(app, {
    info: { name: 'Fixture', version: '0.0.0', description: 'fixture' },
    checkHealth: async () => {},
  });
  return call;
}

const valid = { name: 'Ada', size: 3, tag: 'thing', code: 'ABC', note: null };
const invalid = { name: '', size: 11, tag: 'other', code: 'abc', extra: true, at: 'yesterday' };

describe('a route declared with zod/mini schemas', () => {
  it('validates and shapes a request as its classic twin does', async () => {
    const call = app();

    const answers = await Promise.all(
      ['classic', 'mini'].map(async (name) => {
        const res = await call(`/${name}/abc?limit=4`, { method: 'POST', json: valid });
        return { status: res.status, body: await res.json() };
      }),
    );

    expect(answers[0]).toEqual({
      status: 201,
      body: { ...valid, tries: 1, query: { limit: 4 } },
    });
    expect(answers[1]).toEqual(answers[0]);
  });

  it('refuses a request with the same field errors, in English', async () => {
    const call = app();

    const answers = await Promise.all(
      ['classic', 'mini'].map(async (name) => {
        const res = await call(`/${name}/ab?limit=9`, { method: 'POST', json: invalid });
        const { instance: _, requestId: __, ...problem } = (await res.json()) as Problem;
        return { status: res.status, problem };
      }),
    );

    expect(answers[0]?.status).toBe(422);
    expect(answers[0]?.problem.errors).toEqual([
      { path: 'query.limit', message: 'Too big: expected number to be <=5' },
    ]);
    expect(answers[1]).toEqual(answers[0]);
  });

  it('refuses the body’s fields with the same messages once the parameters pass', async () => {
    const call = app();

    const errors = await Promise.all(
      ['classic', 'mini'].map(async (name) => {
        const res = await call(`/${name}/abc`, { method: 'POST', json: invalid });
        return ((await res.json()) as Problem).errors;
      }),
    );

    expect(errors[0]).toEqual([
      { path: 'body.name', message: 'Too small: expected string to have >=1 characters' },
      { path: 'body.size', message: 'Too big: expected number to be <=10' },
      { path: 'body.tag', message: 'Invalid input: expected "thing"' },
      { path: 'body.code', message: 'must be three capital letters' },
      { path: 'body.at', message: 'Invalid ISO datetime' },
      { path: 'body', message: 'Unrecognized key: "extra"' },
    ]);
    expect(errors[1]).toEqual(errors[0]);
  });

  it('is documented as its classic twin is', async () => {
    const call = app();

    const document = (await (await call('/openapi.json', { key: null })).json()) as {
      paths: Record<string, { post: unknown }>;
      components: { schemas: Record<string, unknown> };
    };

    const operation = (name: string) =>
      JSON.parse(
        JSON.stringify(document.paths[`/${name}/{thingId}`]?.post).replaceAll(
          `${name === 'mini' ? 'Mini' : 'Classic'}Thing`,
          'Thing',
        ),
      );
    expect(operation('mini')).toEqual({ ...operation('classic'), summary: 'Make a mini thing' });
    expect(document.components.schemas.MiniThing).toEqual(document.components.schemas.ClassicThing);
    expect(document.components.schemas.ClassicThing).toEqual({
      type: 'object',
      properties: {
        name: {
          type: 'string',
          minLength: 1,
          maxLength: 20,
          description: 'What it is called',
          example: 'Ada',
        },
        size: { type: 'integer', minimum: 1, maximum: 10 },
        kind: { type: 'string', enum: ['small', 'large'], description: 'Defaults to `small`.' },
        tag: { type: 'string', enum: ['thing'] },
        note: { type: ['string', 'null'] },
        code: { type: 'string', pattern: '^[A-Z]{3}$' },
        at: { type: 'string', format: 'date-time' },
        tries: { type: 'integer', default: 1 },
      },
      required: ['name', 'size', 'tag', 'code'],
      additionalProperties: false,
    });
  });

  it('answers in English in a process that never loads classic zod', async () => {
    // zod/mini installs no locale (its messages would be "Invalid input"); classic zod installs
    // English when its first schema is built, which every test process here has done already.
    const openapi = fileURLToPath(new URL('../../src/platform/http/openapi.ts', import.meta.url));
    const script = `
      const { z } = await import('zod/mini');
      const { createRouter, jsonBody } = await import(${JSON.stringify(openapi)});
      const app = createRouter();
      app.onError((error) => Response.json(error.errors));
      app.openapi({ method: 'post', path: '/n', request: { body: jsonBody(z.object({ n: z.number() })) },
        responses: { 200: { description: 'ok' } } }, (c) => c.body(null, 200));
      const res = await app.request('/n', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":"x"}' });
      process.stdout.write(JSON.stringify({ errors: await res.json() }));
    `;

    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)) },
    );

    expect(JSON.parse(stdout).errors).toEqual([
      { path: 'body.n', message: 'Invalid input: expected number, received string' },
    ]);
  });
});
