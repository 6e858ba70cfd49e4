import { type $ZodType, globalRegistry, safeParse, toJSONSchema } from 'zod/v4/core';
import type { OpenApiRegistry, RouteConfig } from './routes.js';

/*
 * The OpenAPI 3.1 document of what routers recorded (routes.ts), their schemas converted by zod's
 * core `toJSONSchema` (so classic and zod/mini schemas alike). Never part of a function's start:
 * the API loads this file on the first GET /openapi.json, and a Lambda bundle holds the document
 * built when bundling in its place (infra/bundling.ts).
 *
 * The document keeps the shapes it had when @hono/zod-openapi wrote it, so that what clients
 * generate from it (the console's types, among others) does not change with the generator. Where
 * zod's JSON Schema says the same thing another way, `conventional` below rewrites it:
 * - a literal is `{type, enum: [value]}`, not `const`;
 * - nullable is a type array (`["string", "null"]`, an enum gains `null`), or `oneOf` around a
 *   reference, not `anyOf` with `{type: "null"}`;
 * - an integer carries no ±2^53 bounds; a string's `pattern` is its first `.regex()` alone (not
 *   the patterns zod derives from formats such as `uuid` or `date-time`, which `format` says);
 * - a field is required when the schema refuses `undefined` (a default or an `unknown` is not);
 * - a registered schema (`.meta({ id })`) is a `$ref` to `components.schemas`; a copy of one with
 *   metadata of its own (`Status.meta({ description })`) is written out in full, not as a `$ref`
 *   with siblings; metadata (`description`, `example`, …) comes after the schema's own keywords.
 */

type Json = Record<string, unknown>;

/** What a document says besides its operations: `openapi`, `info`, `security`, `tags`, … */
export type DocumentHead = Readonly<Record<string, unknown>>;

/** The document as GET /openapi.json sends it. */
export function openApiDocumentText(registry: OpenApiRegistry, head: DocumentHead): string {
  return JSON.stringify(openApiDocument(registry, head));
}

export function openApiDocument(registry: OpenApiRegistry, head: DocumentHead): Json {
  const schemas = new Components();
  // Webhooks first: their schemas come first in `components.schemas`, as they always have.
  const webhooks = pathItems(registry.webhooks, schemas);
  const paths = pathItems(registry.routes, schemas);
  const raw: Record<string, Record<string, unknown>> = {};
  for (const { type, name, component } of registry.components) {
    raw[type] ??= {};
    raw[type][name] = component;
  }
  return {
    ...head,
    components: {
      ...raw,
      schemas: { ...raw.schemas, ...schemas.registered },
      parameters: { ...raw.parameters },
    },
    paths,
    webhooks,
  };
}

function pathItems(routes: readonly RouteConfig[], schemas: Components): Record<string, Json> {
  const items: Record<string, Json> = {};
  for (const route of routes) {
    items[route.path] = { ...items[route.path], [route.method]: operation(route, schemas) };
  }
  return items;
}

function operation(route: RouteConfig, schemas: Components): Json {
  const {
    method: _method,
    path: _path,
    request,
    responses,
    middleware: _,
    hide: __,
    ...rest
  } = route;
  // Responses, then parameters, then the body: the order schemas are met in is the order of
  // `components.schemas`.
  const answers = Object.fromEntries(
    Object.entries(responses).map(([status, { content, headers: _headers, ...response }]) => [
      status,
      { ...response, ...(content ? { content: mediaTypes(content, schemas) } : {}) },
    ]),
  );
  const parameters = [
    ...parametersIn(request?.params, 'path', schemas),
    ...parametersIn(request?.query, 'query', schemas),
    ...parametersIn(request?.headers, 'header', schemas),
  ];
  let requestBody: Json | undefined;
  if (request?.body) {
    const { content, ...body } = request.body;
    requestBody = { ...body, content: mediaTypes(content, schemas) };
  }
  return {
    ...rest,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: answers,
  };
}

function mediaTypes(content: Readonly<Record<string, Json>>, schemas: Components): Json {
  return Object.fromEntries(
    Object.entries(content).map(([type, { schema, ...rest }]) => [
      type,
      {
        ...rest,
        ...(schema === undefined
          ? {}
          : { schema: isZod(schema) ? schemas.render(schema) : schema }),
      },
    ]),
  );
}

/** One parameter per property of an object schema, its description taken from the property. */
function parametersIn(object: $ZodType | undefined, location: string, schemas: Components) {
  const shape = object && (defOf(object).shape as Record<string, $ZodType> | undefined);
  return Object.entries(shape ?? {}).map(([name, property]) => {
    const meta = metadataOf(property);
    return {
      schema: schemas.render(property),
      required: !safeParse(property, undefined).success && !safeParse(property, null).success,
      ...(meta.description ? { description: meta.description } : {}),
      ...(meta.param as Json | undefined),
      name,
      in: location,
    };
  });
}

const DEFS = '#/$defs/';
/** Marks, between zod's conversion and `inlined`, a `$ref` that is to be written out in full. */
const INLINE = 'x-roster-inline';

/** `components.schemas`, filled as schemas are converted: the first schema of an id is the one. */
class Components {
  readonly registered: Record<string, unknown> = {};

  render(schema: $ZodType): unknown {
    const json = toJSONSchema(schema, {
      target: 'draft-2020-12',
      // Requests are what the schemas read: a field with a default is optional.
      io: 'input',
      unrepresentable: 'any',
      override: ({ zodSchema, jsonSchema }) => conventional(zodSchema, jsonSchema as Json),
    }) as Json;
    const { $schema: _, $defs, ...root } = json;
    const defs = ($defs ?? {}) as Record<string, unknown>;
    const finish = (value: unknown) => withComponentRefs(inlined(value, defs));
    for (const [id, def] of Object.entries(defs)) {
      if (!(id in this.registered)) this.registered[id] = finish(def);
    }
    return finish(root);
  }
}

function withComponentRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withComponentRefs);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string'
        ? inner.replace(DEFS, '#/components/schemas/')
        : withComponentRefs(inner),
    ]),
  );
}

/** Every `$ref` marked INLINE replaced by the schema it points to, with its own keys on top. */
function inlined(value: unknown, defs: Record<string, unknown>): unknown {
  if (Array.isArray(value)) return value.map((item) => inlined(item, defs));
  if (typeof value !== 'object' || value === null) return value;
  const json = Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [key, inlined(inner, defs)]),
  );
  if (!(INLINE in json)) return json;
  const { $ref, [INLINE]: metaKeys, ...own } = json;
  const target = inlined(defs[String($ref).slice(DEFS.length)], defs) as Json;
  return ordered({ ...target, ...own }, metaKeys as string[]);
}

/** Rewrites zod's JSON Schema of `schema` in place into the document's shapes (file comment). */
function conventional(schema: $ZodType, json: Json): void {
  const meta = metadataOf(schema);
  delete meta.id;
  delete meta.param;
  // `param` (a parameter's own OpenAPI fields) is metadata for the parameter, not the schema.
  delete json.param;
  const metaKeys = Object.keys(meta);
  if (typeof json.$ref === 'string') {
    if (!componentOf(schema)) {
      json[INLINE] = metaKeys;
    } else if (Object.keys(json).length > 1) {
      const { $ref, ...rest } = json;
      replace(json, { allOf: [{ $ref }, rest] });
    }
    return;
  }
  const def = defOf(schema);
  if (def.type === 'nullable' && Array.isArray(json.anyOf) && json.anyOf.length === 2) {
    const { anyOf, ...rest } = json;
    const inner = anyOf[0] as Json;
    if (typeof inner.$ref === 'string') {
      replace(json, { oneOf: [inner, { type: 'null' }], ...rest });
    } else if (Array.isArray(inner.anyOf)) {
      replace(json, { ...inner, anyOf: [...inner.anyOf, { type: 'null' }], ...rest });
    } else if (inner.type !== undefined) {
      const isEnum = defOf(unwrapped(def.innerType as $ZodType)).type === 'enum';
      replace(json, {
        ...inner,
        type: [...new Set([inner.type, 'null'].flat())],
        ...(isEnum && Array.isArray(inner.enum) ? { enum: [...inner.enum, null] } : {}),
        ...rest,
      });
    }
  }
  const core = defOf(unwrapped(schema));
  switch (core.type) {
    case 'number':
      if (json.minimum === Number.MIN_SAFE_INTEGER) delete json.minimum;
      if (json.maximum === Number.MAX_SAFE_INTEGER) delete json.maximum;
      break;
    case 'string': {
      delete json.pattern;
      const regex = ((core.checks ?? []) as $ZodType[])
        .map(defOf)
        .find((check) => check.check === 'string_format' && check.format === 'regex');
      if (regex) json.pattern = (regex.pattern as RegExp).source;
      break;
    }
    case 'literal':
      if ('const' in json && !Array.isArray(json.type)) {
        const { const: value, ...rest } = json;
        replace(json, { ...rest, type: value === null ? 'null' : typeof value, enum: [value] });
      }
      break;
    case 'object': {
      const required = Object.entries((core.shape ?? {}) as Record<string, $ZodType>)
        .filter(([, property]) => !safeParse(property, undefined).success)
        .map(([key]) => key);
      if (required.length > 0) json.required = required;
      else delete json.required;
      break;
    }
  }
  replace(json, ordered(json, metaKeys));
}

/** A schema's keywords in the document's order, then other keys, then its metadata. */
const KEYWORDS = [
  '$ref',
  'type',
  'properties',
  'items',
  'prefixItems',
  'minLength',
  'maxLength',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'minItems',
  'maxItems',
  'format',
  'pattern',
  'enum',
  'anyOf',
  'oneOf',
  'allOf',
  'default',
  'required',
  'additionalProperties',
];

function ordered(json: Json, metaKeys: readonly string[]): Json {
  const out: Json = {};
  for (const key of KEYWORDS) if (key in json) out[key] = json[key];
  for (const key of Object.keys(json)) {
    if (!(key in out) && !metaKeys.includes(key)) out[key] = json[key];
  }
  for (const key of metaKeys) if (key in json && !(key in out)) out[key] = json[key];
  return out;
}

function replace(target: Json, next: Json): void {
  for (const key of Object.keys(target)) delete target[key];
  Object.assign(target, next);
}

const isZod = (value: unknown): value is $ZodType =>
  typeof value === 'object' && value !== null && '_zod' in value;

const defOf = (schema: $ZodType) => schema._zod.def as unknown as Json;

/** Schemas that only wrap another (and pipes): the document describes what they wrap. */
const WRAPPERS = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'readonly',
  'nonoptional',
]);

/** The schema inside, if `schema` wraps one: a pipe's input (or its output after a transform). */
function wrapped(schema: $ZodType): $ZodType | undefined {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type as string) && isZod(def.innerType)) return def.innerType;
  if (def.type === 'pipe') {
    const input = def.in as $ZodType;
    return defOf(input).type === 'transform' ? (def.out as $ZodType) : input;
  }
  return undefined;
}

function unwrapped(schema: $ZodType): $ZodType {
  const inner = wrapped(schema);
  return inner ? unwrapped(inner) : schema;
}

/** Metadata through wrappers: the inner schema's keys first, an outer schema's values win. */
function metadataOf(schema: $ZodType, outer: Json = {}): Json {
  const merged = { ...(globalRegistry.get(schema) as Json | undefined), ...outer };
  const inner = wrapped(schema);
  return inner ? metadataOf(inner, merged) : merged;
}

/**
 * The component `schema` is a reference to: the id of the outermost schema with metadata of its
 * own (a `.meta()` or `.describe()` copy, which zod links to its original as `parent`), looking
 * through wrappers without any. A copy of a registered schema is a schema of its own.
 */
function componentOf(schema: $ZodType): string | undefined {
  if (schema._zod.parent !== undefined || globalRegistry.has(schema)) {
    return (globalRegistry.get(schema) as Json | undefined)?.id as string | undefined;
  }
  const inner = wrapped(schema);
  return inner ? componentOf(inner) : undefined;
}
