import fc from 'fast-check';

/**
 * Requests generated from the OpenAPI document, for every operation: a valid request built from
 * the schemas, then (most of the time) broken on purpose — wrong types, missing and extra
 * fields, huge strings, unicode and NUL, deep nesting, numbers at and past every bound, broken
 * JSON, wrong content types, odd path parameters and segments, forged cursors and credentials.
 * Besides, the paths the app serves outside that document (the docs page and its assets, the
 * OpenAPI document itself, the console's files): as they are and with odd path segments
 * (`__proto__`, `..`, `%00`, dot files), other methods and conditional headers. Every answer
 * must be a documented success or a 4xx problem document, never a 5xx, carry a request id, and
 * contain none of the target's secrets; a 4xx must leave the stored data as it was. Generation
 * is fast-check's, from one seed: the same seed replays the same requests.
 */

type Schema = {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  example?: unknown;
};

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, unknown>;
  security?: unknown[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface FuzzRequest {
  readonly operation: string;
  readonly mutation: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface FuzzTarget {
  /** Sends one request (in process, `app.request`-style). */
  request(path: string, init: RequestInit): Promise<Response>;
  /** The stored data as a comparable string (what a 4xx must not change). */
  snapshot(): Promise<string>;
  /** Valid ids per path parameter name, so many requests reach real items. */
  readonly ids: Readonly<Record<string, readonly string[]>>;
  readonly apiKey: string;
  /** A valid bearer token, sent instead of the key to routes that take a token only. */
  readonly bearerToken?: string;
  /** GET paths the app serves outside the OpenAPI document (pages, static files). */
  readonly servedPaths?: readonly string[];
  /** Text no answer may contain (a file planted where nothing may serve it). */
  readonly secrets?: readonly string[];
}

export interface FuzzFailure {
  readonly index: number;
  readonly request: FuzzRequest;
  readonly status: number;
  readonly reason: string;
  readonly body: string;
}

export interface FuzzReport {
  readonly seed: number;
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  readonly byMutation: Record<string, number>;
  readonly failures: FuzzFailure[];
}

const METHODS_WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Strings a careless or hostile client sends. */
const nastyStrings = fc.constantFrom(
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud83d\ude00'.repeat(50),
  '\u202e\u0645\u0631\u062d\u0628\u0627',
  '../../etc/passwd',
  '%2e%2e%2f',
  "' OR '1'='1",
  '<script>alert(1)</script>',
  '{"$gt":""}',
  '\uFFFF\uFFFE',
  'x'.repeat(5_000),
);

/** Path segments a hostile client puts where a name goes. */
const ODD_SEGMENTS = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '.',
  '..',
  '%2e%2e',
  '%2E',
  '..%2F..%2Fpackage.json',
  '%00',
  'a%00b',
  '.env',
  '.git',
  '.well-known',
  '%2Eenv',
  '%2F',
  '%5C',
  '%',
  '%E0%A4%A',
  '%C3%A9',
  '%20',
  '~',
  'missing.js',
  'index.html',
  'x'.repeat(300),
] as const;

const nastyNumbers = fc.constantFrom(
  -1,
  0,
  -0,
  1.5,
  2 ** 31,
  2 ** 53 + 1,
  1e308,
  -1e308,
  Number.MIN_VALUE,
);

export function createFuzzer(document: OpenApiDocument) {
  const resolve = (schema: Schema): Schema => {
    if (!schema.$ref) return schema;
    const name = schema.$ref.split('/').pop() ?? '';
    return resolve(document.components?.schemas?.[name] ?? {});
  };

  /** A value the schema accepts: its documented example half the time, when it has one. */
  const valid = (raw: Schema, depth = 0): fc.Arbitrary<unknown> => {
    const schema = resolve(raw);
    if (schema.example !== undefined) {
      return fc.oneof(
        fc.constant(schema.example),
        generated({ ...schema, example: undefined }, depth),
      );
    }
    return generated(schema, depth);
  };

  const generated = (schema: Schema, depth: number): fc.Arbitrary<unknown> => {
    const variants = schema.anyOf ?? schema.oneOf;
    if (variants) return fc.oneof(...variants.map((v) => valid(v, depth)));
    if (schema.allOf) {
      return fc
        .tuple(...schema.allOf.map((s) => valid(s, depth)))
        .map((parts) => Object.assign({}, ...parts.filter((p) => typeof p === 'object')));
    }
    if (schema.enum) return fc.constantFrom(...schema.enum);
    switch (schema.type) {
      case 'string':
        if (schema.format === 'date') {
          return fc
            .date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
            .map((d) => d.toISOString().slice(0, 10));
        }
        if (schema.format === 'date-time') {
          return fc
            .date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
            .map((d) => d.toISOString());
        }
        if (schema.pattern) {
          return fc
            .stringMatching(new RegExp(schema.pattern))
            .filter((s) => !/^\.+$/.test(s) && s.length <= (schema.maxLength ?? 100));
        }
        return fc
          .string({
            minLength: schema.minLength ?? 0,
            maxLength: Math.min(schema.maxLength ?? 40, 40),
          })
          .filter((s) => s.trim().length >= Math.min(1, schema.minLength ?? 0));
      case 'integer':
        return fc.integer({
          min: schema.minimum ?? -1000,
          max: Math.min(schema.maximum ?? 1000, 1000),
        });
      case 'number':
        return fc.double({
          min: schema.minimum ?? -1000,
          max: schema.maximum ?? 1000,
          noNaN: true,
        });
      case 'boolean':
        return fc.boolean();
      case 'array':
        return depth > 3
          ? fc.constant([])
          : fc.array(valid(schema.items ?? {}, depth + 1), { maxLength: 3 });
      case 'object': {
        const properties = schema.properties ?? {};
        const required = new Set(schema.required ?? []);
        const shape: Record<string, fc.Arbitrary<unknown>> = {};
        for (const [key, value] of Object.entries(properties)) shape[key] = valid(value, depth + 1);
        return fc.record(shape, { requiredKeys: [...required].filter((k) => k in shape) });
      }
      default:
        return fc.jsonValue({ maxDepth: 2 });
    }
  };

  /** A value of the wrong kind for the schema, or at/past one of its bounds. */
  const invalid = (raw: Schema): fc.Arbitrary<unknown> => {
    const schema = resolve(raw);
    const wrongType = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.string({ maxLength: 5 }),
      fc.constant([]),
      fc.constant({}),
    );
    const bounds: fc.Arbitrary<unknown>[] = [wrongType, nastyStrings, nastyNumbers];
    if (schema.minimum !== undefined)
      bounds.push(fc.constantFrom(schema.minimum, schema.minimum - 1));
    if (schema.maximum !== undefined)
      bounds.push(fc.constantFrom(schema.maximum, schema.maximum + 1));
    if (schema.maxLength !== undefined) {
      bounds.push(fc.constantFrom('a'.repeat(schema.maxLength), 'a'.repeat(schema.maxLength + 1)));
    }
    return fc.oneof(...bounds);
  };

  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

  const operations = Object.entries(document.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, operation]) => ({
      path,
      method: method.toUpperCase(),
      operation,
    })),
  );

  /** A request for one operation: valid, or broken in one chosen way. */
  const requestFor = (
    target: Pick<FuzzTarget, 'ids' | 'apiKey' | 'bearerToken'>,
    op: (typeof operations)[number],
  ): fc.Arbitrary<FuzzRequest> => {
    const parameters = op.operation.parameters ?? [];
    const pathParams = parameters.filter((p) => p.in === 'path');
    const queryParams = parameters.filter((p) => p.in === 'query');
    const bodySchema = op.operation.requestBody?.content['application/json']?.schema;
    const idFor = (name: string, schema: Schema) =>
      (target.ids[name]?.length ?? 0) > 0
        ? fc.oneof(
            { arbitrary: fc.constantFrom(...(target.ids[name] ?? [])), weight: 3 },
            valid(schema),
          )
        : valid(schema);

    const base = fc.record({
      params: fc.tuple(...pathParams.map((p) => idFor(p.name, p.schema))),
      query: fc.tuple(...queryParams.map((p) => fc.option(valid(p.schema), { nil: undefined }))),
      body: bodySchema ? valid(bodySchema) : fc.constant(undefined),
      idempotencyKey: fc.option(fc.uuid(), { nil: undefined, freq: 3 }),
    });

    const mutation = fc.constantFrom(
      'none',
      'none',
      'body: wrong field',
      'body: missing field',
      'body: extra field',
      'body: not an object',
      'body: broken json',
      'body: huge',
      'body: deep nesting',
      'body: very deep nesting',
      'body: empty',
      'content-type',
      'path: odd id',
      'path: odd segment after',
      'query: odd value',
      'query: forged cursor',
      'credentials',
      'idempotency-key',
      'method',
    );

    return fc
      .tuple(base, mutation, fc.nat(), invalid({}), nastyStrings, fc.string({ maxLength: 20 }))
      .map(([values, kind, pick, bad, nasty, anyText]) => {
        // A route whose security names only the bearer scheme gets the token, the rest the key.
        const bearerOnly =
          Array.isArray(op.operation.security) &&
          op.operation.security.length > 0 &&
          op.operation.security.every((scheme) => !('ApiKey' in (scheme as object)));
        const headers: Record<string, string> =
          bearerOnly && target.bearerToken
            ? { authorization: `Bearer ${target.bearerToken}` }
            : { 'x-api-key': target.apiKey };
        let method = op.method;
        let params = values.params.map(String);
        const query = new URLSearchParams();
        queryParams.forEach((p, i) => {
          const v = values.query[i];
          if (v !== undefined) query.set(p.name, String(v));
        });
        let body: unknown = values.body;
        let text: string | undefined;
        let extraSegment: string | undefined;
        if (values.idempotencyKey && method === 'POST')
          headers['idempotency-key'] = values.idempotencyKey;

        const bodyObject =
          body && typeof body === 'object' && !Array.isArray(body)
            ? { ...(body as object) }
            : undefined;
        const keys = bodyObject ? Object.keys(bodyObject) : [];
        const key = keys[pick % Math.max(1, keys.length)];
        switch (kind) {
          case 'body: wrong field':
            if (bodyObject && key) body = { ...bodyObject, [key]: bad };
            break;
          case 'body: missing field':
            if (bodyObject && key) {
              const { [key]: _, ...rest } = bodyObject as Record<string, unknown>;
              body = rest;
            }
            break;
          case 'body: extra field':
            if (bodyObject) body = { ...bodyObject, [anyText || 'extra']: nasty, __proto__x: 1 };
            break;
          case 'body: not an object':
            body = [null, 'text', 42, [], true][pick % 5];
            break;
          case 'body: broken json':
            text = JSON.stringify(body ?? {}).slice(0, -1 - (pick % 3)) + (pick % 2 ? ',' : '');
            break;
          case 'body: huge':
            body = {
              ...(bodyObject ?? {}),
              [key ?? 'blob']: 'h'.repeat(pick % 2 ? 70_000 : 30_000),
            };
            break;
          case 'body: deep nesting':
            text = `{"${key ?? 'a'}":${nested(40)}}`;
            break;
          case 'body: very deep nesting':
            text = `{"${key ?? 'a'}":${nested(20_000)}}`;
            break;
          case 'body: empty':
            text = '';
            break;
          case 'content-type':
            headers['content-type'] = [
              'text/plain',
              'application/xml',
              'application/x-www-form-urlencoded',
              'application/json; charset=utf-16',
              '',
            ][pick % 5] as string;
            break;
          case 'path: odd id':
            if (params.length > 0) {
              const odd = [
                'a%2Fb',
                'x'.repeat(101),
                encodeURIComponent(nasty || '%'),
                ' ',
                ...ODD_SEGMENTS,
              ][pick % (ODD_SEGMENTS.length + 4)] as string;
              params = params.map((p, i) => (i === pick % params.length ? odd : p));
            }
            break;
          case 'path: odd segment after':
            extraSegment = ODD_SEGMENTS[pick % ODD_SEGMENTS.length];
            break;
          case 'query: odd value':
            for (const p of queryParams)
              query.set(
                p.name,
                [String(bad), '-1', '0', '201', '1.5', 'x'.repeat(5000), ''][pick % 7] as string,
              );
            query.append('limit', '7');
            break;
          case 'query: forged cursor':
            query.set(
              'cursor',
              [
                Buffer.from(
                  JSON.stringify({ v: 1, s: 'x', k: { PK: 'EVENT#x', SK: 'EVENT' }, x: { w: 99 } }),
                ).toString('base64url'),
                Buffer.alloc(40, pick % 256).toString('base64url'),
                'not-a-cursor',
                '',
              ][pick % 4] as string,
            );
            break;
          case 'credentials':
            delete headers['x-api-key'];
            delete headers.authorization;
            [
              () => undefined,
              () => (headers['x-api-key'] = `${target.apiKey}x`),
              () => (headers.authorization = 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'),
              () => (headers.authorization = `Bearer ${anyText}`),
              () => (headers.authorization = 'Basic dXNlcjpwYXNz'),
            ][pick % 5]?.();
            break;
          case 'idempotency-key':
            if (method === 'POST')
              headers['idempotency-key'] = ['', ' ', 'x'.repeat(300), '\u00e9t\u00e9'][
                pick % 4
              ] as string;
            break;
          case 'method':
            method = ['PATCH', 'PUT', 'DELETE', 'POST', 'GET'][pick % 5] as string;
            break;
        }
        if (text === undefined && body !== undefined && METHODS_WITH_BODY.has(method))
          text = JSON.stringify(body);
        if (text !== undefined && !('content-type' in headers))
          headers['content-type'] = 'application/json';
        if (headers['content-type'] === '') delete headers['content-type'];

        let path = op.path;
        pathParams.forEach((p, i) => {
          const value = params[i] ?? '';
          path = path.replace(
            `{${p.name}}`,
            kind === 'path: odd id' ? value : encodeURIComponent(value),
          );
        });
        if (extraSegment !== undefined) path = `${path.replace(/\/$/, '')}/${extraSegment}`;
        const search = query.toString();
        return {
          operation: `${op.method} ${op.path}`,
          mutation: kind,
          method,
          path: search ? `${path}?${search}` : path,
          headers,
          ...(text !== undefined && METHODS_WITH_BODY.has(method) ? { body: text } : {}),
        };
      });
  };

  /** A request for a path served outside the document: as it is, or broken in one chosen way. */
  const servedRequestFor = (
    target: Pick<FuzzTarget, 'apiKey'>,
    served: readonly string[],
  ): fc.Arbitrary<FuzzRequest> =>
    fc
      .tuple(
        fc.constantFrom(...served),
        fc.constantFrom(
          'none',
          'path: odd last segment',
          'path: odd segment after',
          'path: odd segment before',
          'method',
          'HEAD',
          'if-none-match',
          'credentials',
        ),
        fc.constantFrom(...ODD_SEGMENTS),
        fc.nat(),
      )
      .map(([served, kind, segment, pick]) => {
        const headers: Record<string, string> = {};
        let method = 'GET';
        let path = served;
        let body: string | undefined;
        const parts = served.split('/');
        switch (kind) {
          case 'path: odd last segment':
            path = [...parts.slice(0, -1), segment].join('/');
            break;
          case 'path: odd segment after':
            path = `${served.replace(/\/$/, '')}/${segment}`;
            break;
          case 'path: odd segment before':
            path = [...parts.slice(0, -1), segment, parts.at(-1)].join('/');
            break;
          case 'method':
            method = ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'][pick % 5] as string;
            if (method !== 'OPTIONS' && method !== 'DELETE') {
              headers['content-type'] = 'application/json';
              body = '{}';
            }
            break;
          case 'HEAD':
            method = 'HEAD';
            break;
          case 'if-none-match':
            headers['if-none-match'] = ['*', '"x"', 'W/"x"', '"', '', ', ,', 'W/'][
              pick % 7
            ] as string;
            break;
          case 'credentials':
            headers['x-api-key'] = pick % 2 ? target.apiKey : `${target.apiKey}x`;
            break;
        }
        return {
          operation: `GET ${served}`,
          mutation: `served, ${kind}`,
          method,
          path,
          headers,
          ...(body !== undefined ? { body } : {}),
        };
      });

  /** What is wrong with an answer, whatever the request: the rules every answer keeps. */
  function faultsOf(
    target: Pick<FuzzTarget, 'secrets'>,
    request: FuzzRequest,
    res: Response,
    body: string,
  ): string[] {
    const faults: string[] = [];
    if (!res.headers.get('x-request-id')) faults.push('an answer without x-request-id');
    for (const secret of target.secrets ?? []) {
      if (body.includes(secret))
        faults.push('an answer holding a secret (a file it must not serve)');
    }
    if (res.status >= 500) faults.push('a server error');
    else if (res.status >= 400) {
      if (!/^application\/problem\+json/.test(res.headers.get('content-type') ?? '')) {
        faults.push('a 4xx that is not problem+json');
      } else {
        const problem = JSON.parse(body) as { status?: number; title?: string; type?: string };
        if (problem.status !== res.status || !problem.title || !problem.type)
          faults.push('a malformed problem document');
      }
    } else if (res.status === 304) {
      if (request.headers['if-none-match'] === undefined)
        faults.push('a 304 to a request without If-None-Match');
    } else {
      const [documentedPath, documentedOp] = findOperation(request);
      if (documentedOp && !(String(res.status) in documentedOp.responses)) {
        faults.push(`an undocumented success for ${request.method} ${documentedPath}`);
      }
    }
    return faults;
  }

  const send = (target: Pick<FuzzTarget, 'request'>, request: FuzzRequest) =>
    target.request(request.path, {
      method: request.method,
      headers: request.headers,
      ...(request.body !== undefined ? { body: request.body } : {}),
    });

  /** Sends `count` generated requests one after another and checks every answer. */
  async function run(
    target: FuzzTarget,
    options: { seed: number; count: number },
  ): Promise<FuzzReport> {
    const byOperation = fc.oneof(...operations.map((op) => requestFor(target, op)));
    const served = target.servedPaths ?? [];
    // One request in five goes to a served path: ~80 of the suite's 400.
    const arbitrary =
      served.length > 0
        ? fc.oneof(
            { arbitrary: byOperation, weight: 4 },
            { arbitrary: servedRequestFor(target, served), weight: 1 },
          )
        : byOperation;
    const requests = fc.sample(arbitrary, { seed: options.seed, numRuns: options.count });
    const byStatus: Record<string, number> = {};
    const byMutation: Record<string, number> = {};
    const failures: FuzzFailure[] = [];
    let before = await target.snapshot();
    for (const [index, request] of requests.entries()) {
      byMutation[request.mutation] = (byMutation[request.mutation] ?? 0) + 1;
      const res = await send(target, request);
      const body = await res.text();
      byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
      const after = await target.snapshot();
      const faults = faultsOf(target, request, res, body);
      if (res.status >= 400 && res.status < 500 && after !== before)
        faults.push('a 4xx that changed stored data');
      for (const reason of faults)
        failures.push({ index, request, status: res.status, reason, body: body.slice(0, 500) });
      before = after;
    }
    return { seed: options.seed, requests: requests.length, byStatus, byMutation, failures };
  }

  /**
   * Every GET route with every odd segment, each in place of the route's last segment, after it
   * and before it: the document's GET operations (path parameters filled with known ids, with
   * the key) and the served paths; the served paths also with other methods, HEAD and
   * conditional headers. Not sampled: every combination, every run. Nothing here can change
   * data (GET and HEAD, or other methods without credentials), so nothing is snapshotted.
   */
  function sweepRequests(
    target: Pick<FuzzTarget, 'ids' | 'apiKey' | 'servedPaths'>,
  ): FuzzRequest[] {
    const requests: FuzzRequest[] = [];
    const variants = (path: string) => {
      const parts = path.split('/');
      return ODD_SEGMENTS.flatMap((segment) => [
        {
          mutation: 'segment in place of the last',
          path: [...parts.slice(0, -1), segment].join('/'),
        },
        { mutation: 'segment after', path: `${path.replace(/\/$/, '')}/${segment}` },
        {
          mutation: 'segment before the last',
          path: [...parts.slice(0, -1), segment, parts.at(-1)].join('/'),
        },
      ]);
    };
    for (const op of operations) {
      if (op.method !== 'GET') continue;
      const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
        encodeURIComponent(target.ids[name]?.[0] ?? 'x'),
      );
      for (const variant of variants(path)) {
        requests.push({
          operation: `GET ${op.path}`,
          mutation: `sweep, ${variant.mutation}`,
          method: 'GET',
          path: variant.path,
          headers: { 'x-api-key': target.apiKey },
        });
      }
    }
    for (const served of target.servedPaths ?? []) {
      const operation = `GET ${served}`;
      for (const variant of variants(served)) {
        const mutation = `sweep, ${variant.mutation}`;
        requests.push({ operation, mutation, method: 'GET', path: variant.path, headers: {} });
      }
      for (const method of ['HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
        requests.push({ operation, mutation: 'sweep, method', method, path: served, headers: {} });
      }
      for (const condition of ['*', '"x"', 'W/"x"', '"', '', ', ,', 'W/']) {
        const headers = { 'if-none-match': condition };
        requests.push({
          operation,
          mutation: 'sweep, if-none-match',
          method: 'GET',
          path: served,
          headers,
        });
      }
    }
    return requests;
  }

  /** Sends every request of the sweep and checks every answer. */
  async function sweep(target: FuzzTarget): Promise<Omit<FuzzReport, 'seed'>> {
    const requests = sweepRequests(target);
    const byStatus: Record<string, number> = {};
    const byMutation: Record<string, number> = {};
    const failures: FuzzFailure[] = [];
    for (const [index, request] of requests.entries()) {
      byMutation[request.mutation] = (byMutation[request.mutation] ?? 0) + 1;
      const res = await send(target, request);
      const body = await res.text();
      byStatus[res.status] = (byStatus[res.status] ?? 0) + 1;
      for (const reason of faultsOf(target, request, res, body))
        failures.push({ index, request, status: res.status, reason, body: body.slice(0, 500) });
    }
    return { requests: requests.length, byStatus, byMutation, failures };
  }

  function findOperation(request: FuzzRequest): [string, Operation | undefined] {
    const path = request.path.split('?')[0] ?? '';
    for (const op of operations) {
      if (op.method !== request.method) continue;
      const pattern = new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      if (pattern.test(path)) return [op.path, op.operation];
    }
    return [path, undefined];
  }

  return { run, sweep, operations: operations.map((op) => `${op.method} ${op.path}`) };
}
