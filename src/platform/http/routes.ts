import type { TypedResponse } from 'hono';
import {
  type Context,
  type Env,
  type Handler,
  Hono,
  type MiddlewareHandler,
  type Schema,
} from 'hono';
import type { HonoBase } from 'hono/hono-base';
import { HTTPException } from 'hono/http-exception';
import type { BlankInput, MergePath, MergeSchemaPath } from 'hono/types';
import type {
  ClientErrorStatusCode,
  InfoStatusCode,
  RedirectStatusCode,
  ServerErrorStatusCode,
  StatusCode,
  SuccessStatusCode,
} from 'hono/utils/http-status';
import type { JSONParsed } from 'hono/utils/types';
import { mergePath } from 'hono/utils/url';
import {
  type $ZodError,
  type $ZodType,
  config,
  globalConfig,
  type input,
  type output,
  safeParseAsync,
} from 'zod/v4/core';
import en from 'zod/v4/locales/en.js';

/*
 * Routes declared once, as data: the route's method, path and schemas validate its requests here
 * and describe it in the OpenAPI document (openapi-document.ts, generated from what a router
 * records, never at start-up). The schemas are zod's core types, so classic (`zod`) and mini
 * (`zod/mini`) schemas both work: validation goes through core's `safeParseAsync`, the document
 * through core's `toJSONSchema`.
 */

// Validation messages are part of the API's answers. Classic zod installs English when its first
// schema is built; zod/mini installs no locale at all.
if (!globalConfig.localeError) config(en());

export type Method = 'get' | 'put' | 'post' | 'delete' | 'patch' | 'head' | 'options' | 'trace';

/** A media type of a body: a schema (zod, or a plain JSON Schema object) and OpenAPI's extras. */
export interface MediaTypeConfig {
  readonly schema?: $ZodType | Readonly<Record<string, unknown>>;
  readonly [key: string]: unknown;
}

export interface RequestBodyConfig {
  readonly content: Readonly<Record<string, MediaTypeConfig>>;
  readonly required?: boolean;
  readonly description?: string;
}

export interface RequestConfig {
  readonly params?: $ZodType;
  readonly query?: $ZodType;
  readonly headers?: $ZodType;
  readonly body?: RequestBodyConfig;
}

export interface ResponseConfig {
  readonly description: string;
  readonly content?: Readonly<Record<string, MediaTypeConfig>>;
  readonly headers?: Readonly<Record<string, unknown>>;
}

/**
 * An operation: what OpenAPI says of it (every key but `middleware` and `hide` goes to the
 * document as given, in this order) and the route middleware that runs before its validators.
 */
export interface RouteConfig {
  readonly method: Method;
  /** OpenAPI's path template: `/events/{eventId}`. */
  readonly path: string;
  readonly tags?: readonly string[];
  readonly summary?: string;
  readonly description?: string;
  readonly operationId?: string;
  readonly deprecated?: boolean;
  /** `[]`: public; `[{ Bearer: [] }]`: a bearer token only (see public-routes.ts). */
  readonly security?: readonly Readonly<Record<string, readonly string[]>>[];
  readonly request?: RequestConfig;
  readonly responses: Readonly<Record<string | number, ResponseConfig>>;
  readonly middleware?: MiddlewareHandler | readonly MiddlewareHandler[];
  /** Served, and left out of the document. */
  readonly hide?: boolean;
}

/** A route declaration, as a constant the router serves and the document describes. */
export const createRoute = <const R extends RouteConfig>(route: R): R => route;

/** What one router declares for the OpenAPI document; mounting a router copies its records. */
export class OpenApiRegistry {
  readonly routes: RouteConfig[] = [];
  readonly webhooks: RouteConfig[] = [];
  readonly components: { type: string; name: string; component: unknown }[] = [];

  /** Documents a route served some other way (its own handler on a path Hono can't express). */
  registerPath(route: RouteConfig): void {
    this.routes.push(route);
  }

  registerWebhook(webhook: RouteConfig): void {
    this.webhooks.push(webhook);
  }

  registerComponent(type: string, name: string, component: unknown): void {
    this.components.push({ type, name, component });
  }

  /** Takes another registry's records, its routes under `prefix` (a mount path). */
  merge(other: OpenApiRegistry, prefix = '/'): void {
    for (const route of other.routes)
      this.registerPath({ ...route, path: mergePath(prefix, route.path) });
    for (const webhook of other.webhooks) this.registerWebhook(webhook);
    for (const { type, name, component } of other.components) {
      this.registerComponent(type, name, component);
    }
  }
}

/** The targets a request is validated in, as Hono names them. */
export type ValidationTarget = 'param' | 'query' | 'header' | 'json';

/** The error a request that fails its schemas becomes (the router's `invalid`). */
export type InvalidRequest = (target: ValidationTarget, error: $ZodError) => Error;

/**
 * A Hono app whose `openapi(route, handler)` serves a declared route — its middleware first, then
 * its query, path parameters, headers and JSON body validated by the route's schemas, in that
 * order (the first that fails is the answer) — and records it for the document. Mounting a router
 * (`route()`) copies its records, under the mount path.
 */
export class Router<E extends Env = Env> extends Hono<E> {
  readonly openAPIRegistry = new OpenApiRegistry();
  readonly #invalid: InvalidRequest;

  constructor(invalid: InvalidRequest) {
    super();
    this.#invalid = invalid;
  }

  openapi<R extends RouteConfig>(
    route: R,
    handler: Handler<E, ConvertPath<R['path']>, InputOf<R>, RouteResponse<R>>,
  ): this {
    const { middleware, hide, ...declared } = route;
    if (!hide) this.openAPIRegistry.registerPath(declared);
    const invalid = this.#invalid;
    const validators: MiddlewareHandler[] = [];
    const request = route.request;
    if (request?.query) validators.push(validate('query', request.query, invalid));
    if (request?.params) validators.push(validate('param', request.params, invalid));
    if (request?.headers) validators.push(validate('header', request.headers, invalid));
    if (request?.body) validators.push(...bodyValidators(request.body, invalid));
    const before =
      middleware === undefined ? [] : Array.isArray(middleware) ? middleware : [middleware];
    const path = route.path.replaceAll(/\/{(.+?)}/g, '/:$1');
    this.on(
      [route.method.toUpperCase()],
      [path],
      ...(before as MiddlewareHandler[]),
      ...validators,
      handler as never,
    );
    return this;
  }

  override route<
    SubPath extends string,
    SubEnv extends Env,
    SubSchema extends Schema,
    SubBasePath extends string,
    SubCurrentPath extends string,
  >(
    path: SubPath,
    app: HonoBase<SubEnv, SubSchema, SubBasePath, SubCurrentPath>,
  ): HonoBase<E, MergeSchemaPath<SubSchema, MergePath<'/', SubPath>>, '/', '/'> {
    super.route(path, app);
    if (app instanceof Router) {
      this.openAPIRegistry.merge(app.openAPIRegistry, path.replaceAll(/:([^/]+)/g, '{$1}'));
    }
    return this as never;
  }
}

const jsonMediaType = /^application\/([\w.-]+\+)?json$/i;
const isJsonContentType = (type: string) => /^application\/([a-z-.]+\+)?json/i.test(type);
const jsonRequest = /^application\/([a-z-.]+\+)?json(;\s*[a-zA-Z0-9-]+=([^;]+))*$/i;

/**
 * One target's validator, as @hono/zod-validator behaved (the API's answers are unchanged by
 * the move off it): a JSON body is read only when the content type is JSON (otherwise `{}` is
 * validated), and one that does not parse is a 400.
 */
function validate(
  target: ValidationTarget,
  schema: $ZodType,
  invalid: InvalidRequest,
): MiddlewareHandler {
  // Headers arrive lower-cased: a schema's `Idempotency-Key` still finds `idempotency-key`.
  const shape = (schema._zod.def as { shape?: Record<string, unknown> }).shape;
  const headerNames =
    target === 'header' && shape
      ? new Map(Object.keys(shape).map((key) => [key.toLowerCase(), key]))
      : undefined;
  return async (c, next) => {
    let value: unknown = {};
    switch (target) {
      case 'query':
        value = Object.fromEntries(
          Object.entries(c.req.queries()).map(([key, values]) => [
            key,
            values.length === 1 ? values[0] : values,
          ]),
        );
        break;
      case 'param':
        value = c.req.param();
        break;
      case 'header':
        value = Object.fromEntries(
          Object.entries(c.req.header()).map(([key, header]) => [
            headerNames?.get(key) ?? key,
            header,
          ]),
        );
        break;
      case 'json': {
        const type = c.req.header('content-type');
        if (!type || !jsonMediaType.test(type.split(';')[0]?.trim() ?? '')) break;
        try {
          value = await c.req.json();
        } catch {
          throw new HTTPException(400, { message: 'Malformed JSON in request body' });
        }
        break;
      }
    }
    const result = await safeParseAsync(schema, value);
    if (!result.success) throw invalid(target, result.error);
    c.req.addValidatedData(target, result.data as object);
    await next();
  };
}

/**
 * A JSON body: a content type other than the declared ones is a 415 (an HTTPException, which the
 * app's error handler answers), then the body is validated — always when it is required, and
 * when JSON was sent otherwise (an absent optional body is `{}`, unvalidated).
 */
function bodyValidators(body: RequestBodyConfig, invalid: InvalidRequest): MiddlewareHandler[] {
  const declared = Object.keys(body.content);
  const json = declared.find(
    (type) => isJsonContentType(type) && isZodSchema(body.content[type]?.schema),
  );
  if (json === undefined) return [];
  const gate: MiddlewareHandler = async (c, next) => {
    const type = c.req.header('content-type');
    if (type ? !declared.some((d) => matchesMediaType(type, d)) : await hasBody(c)) {
      throw new HTTPException(415, { message: 'Unsupported Media Type' });
    }
    await next();
  };
  const validator = validate('json', body.content[json]?.schema as $ZodType, invalid);
  if (body.required) return [gate, validator];
  return [
    gate,
    async (c, next) => {
      const type = c.req.header('content-type');
      if (type && isJsonContentType(type)) return validator(c, next);
      c.req.addValidatedData('json', {});
      await next();
    },
  ];
}

const isZodSchema = (value: unknown): value is $ZodType =>
  typeof value === 'object' && value !== null && '_zod' in value;

function matchesMediaType(contentType: string, mediaType: string): boolean {
  if (mediaType === '*/*') return true;
  if (isJsonContentType(mediaType)) return jsonRequest.test(contentType);
  const essence = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType.endsWith('/*')) return essence.startsWith(mediaType.slice(0, -1).toLowerCase());
  return essence === mediaType.toLowerCase();
}

async function hasBody(c: Context): Promise<boolean> {
  const raw = c.req.raw;
  if (raw.body === null) return false;
  if (raw.bodyUsed) return (await c.req.arrayBuffer()).byteLength > 0;
  const reader = raw.clone().body?.getReader();
  if (!reader) return false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return false;
      if (value.byteLength > 0) return true;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}

/** `/events/{eventId}` → `/events/:eventId`, as Hono types a handler's path. */
export type ConvertPath<T extends string> = T extends `${infer Start}/{${infer Param}}${infer Rest}`
  ? `${Start}/:${Param}${ConvertPath<Rest>}`
  : T;

type Part<R extends RouteConfig, K extends keyof RequestConfig> = R['request'] extends infer Q
  ? Q extends RequestConfig
    ? K extends keyof Q
      ? Q[K]
      : undefined
    : undefined
  : undefined;

type TargetInput<S, Target extends string> = S extends $ZodType
  ? { in: { [K in Target]: input<S> }; out: { [K in Target]: output<S> } }
  : BlankInput;

type JsonSchemaOf<R extends RouteConfig> =
  Part<R, 'body'> extends RequestBodyConfig
    ? {
        [T in keyof Part<R, 'body'>['content']]: T extends `application/${string}json${string}`
          ? Part<R, 'body'>['content'][T] extends { schema: infer S extends $ZodType }
            ? S
            : never
          : never;
      }[keyof Part<R, 'body'>['content']]
    : never;

/** What `c.req.valid(target)` returns in a route's handler: each schema's input and output. */
export type InputOf<R extends RouteConfig> = TargetInput<Part<R, 'params'>, 'param'> &
  TargetInput<Part<R, 'query'>, 'query'> &
  TargetInput<Part<R, 'headers'>, 'header'> &
  ([JsonSchemaOf<R>] extends [never] ? BlankInput : TargetInput<JsonSchemaOf<R>, 'json'>);

type StatusRanges = {
  '1XX': InfoStatusCode;
  '2XX': SuccessStatusCode;
  '3XX': RedirectStatusCode;
  '4XX': ClientErrorStatusCode;
  '5XX': ServerErrorStatusCode;
};
type DeclaredStatus<R extends RouteConfig> = keyof R['responses'] &
  (keyof StatusRanges | StatusCode);
type StatusOf<T> = T extends keyof StatusRanges ? StatusRanges[T] : T;

type ContentOf<T> = T extends { [K in keyof T]: infer A }
  ? A extends { schema: infer S extends $ZodType }
    ? output<S>
    : never
  : never;

type ResponseFor<ContentType, Content, Code extends StatusCode> = ContentType extends string
  ? ContentType extends `application/${infer Start}json${string}`
    ? Start extends '' | `${string}+` | `vnd.${string}+`
      ? TypedResponse<JSONParsed<Content>, Code, 'json'>
      : never
    : ContentType extends `text/plain${string}`
      ? TypedResponse<Content, Code, 'text'>
      : Response
  : never;

type TypedResponses<R extends RouteConfig> = {
  [Status in DeclaredStatus<R>]: StatusOf<Status> extends infer Code extends StatusCode
    ? R['responses'][Status] extends { content: infer Content }
      ? undefined extends Content
        ? never
        : ResponseFor<keyof Content, ContentOf<Content>, Code>
      : TypedResponse<BlankInput, Code, string>
    : never;
}[DeclaredStatus<R>];

type MaybePromise<T> = T | Promise<T>;

/**
 * What a route's handler may answer: the declared statuses with their JSON types; any Response as
 * well when some declared answer has no body schema (a 204, a redirect).
 */
export type RouteResponse<R extends RouteConfig> = R extends {
  responses: { [status: number]: { content: { [type: string]: MediaTypeConfig } } };
}
  ? MaybePromise<TypedResponses<R>>
  : MaybePromise<TypedResponses<R> | Response>;
