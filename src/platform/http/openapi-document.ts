import { type $ZodType, globalRegistry, safeParse, toJSONSchema } from 'zod/v4/core';
import type { OpenApiRegistry } from './routes.js';

type Json = Record<string, unknown>;

/** What a document says besides its operations: `openapi`, `info`, `security`, `tags`, … */
export type DocumentHead = Readonly<Record<string, unknown>>;

const isZod = (value: unknown): value is $ZodType =>
  typeof value === 'object' && value !== null && '_zod' in value;

const SCHEMA_REF = '#/components/schemas/';
const INLINE = 'x-roster-inline';

/** The document as the API serves it at /openapi.json. */
export function openApiDocumentText(registry: OpenApiRegistry, head: DocumentHead): string {
  return JSON.stringify(openApiDocument(registry, head));
}

export function openApiDocument(registry: OpenApiRegistry, head: DocumentHead): Json {
  const source = {
    routes: registry.routes as unknown as Json[],
    webhooks: registry.webhooks as unknown as Json[],
    components: registry.components,
  };
  const schemas: Record<string, unknown> = {};
  const render = (schema: $ZodType): unknown => {
    const json = toJSONSchema(schema, {
      target: 'draft-2020-12',
      io: 'input',
      unrepresentable: 'any',
      override: ({ zodSchema, jsonSchema }) => shape(zodSchema, jsonSchema as Json),
    }) as Json;
    delete json.$schema;
    const defs = (json.$defs ?? {}) as Record<string, unknown>;
    delete json.$defs;
    const finish = (value: unknown): unknown => rewriteRefs(inlineParents(value, defs));
    for (const [id, def] of Object.entries(defs)) {
      if (!(id in schemas)) schemas[id] = finish(def);
    }
    return finish(json);
  };
  const content = (map: Json) =>
    Object.fromEntries(
      Object.entries(map).map(([type, entry]) => {
        const { schema, ...rest } = entry as Json;
        return [
          type,
          {
            ...rest,
            ...(schema === undefined ? {} : { schema: isZod(schema) ? render(schema) : schema }),
          },
        ];
      }),
    );
  const parameters = (request: Json | undefined) => {
    if (!request) return [];
    const out: Json[] = [];
    const add = (object: unknown, location: string) => {
      if (!isZod(object)) return;
      const shape = (object._zod.def as { shape?: Record<string, $ZodType> }).shape ?? {};
      for (const [name, property] of Object.entries(shape)) {
        const meta = collectMetadata(property);
        const required =
          !safeParse(property, undefined).success && !safeParse(property, null).success;
        const param = {
          ...(meta.description ? { description: meta.description } : {}),
          ...(meta.param as Json | undefined),
          name,
          in: location,
        };
        out.push({ schema: render(property), required, ...param });
      }
    };
    add(request.params, 'path');
    add(request.query, 'query');
    add(request.headers, 'header');
    return out;
  };
  const operation = (route: Json) => {
    const { method, path: _path, request, responses, middleware: _m, hide: _h, ...rest } = route;
    // Responses first, then parameters, then the body: the order zod-to-openapi met schemas in,
    // which is the order of `components.schemas`.
    const renderedResponses = Object.fromEntries(
      Object.entries(responses as Json).map(([status, response]) => {
        const { content: responseContent, headers: _headers, ...responseRest } = response as Json;
        return [
          status,
          {
            ...responseRest,
            ...(responseContent ? { content: content(responseContent as Json) } : {}),
          },
        ];
      }),
    );
    const req = request as Json | undefined;
    const params = parameters(req);
    const body = req?.body as Json | undefined;
    let requestBody: Json | undefined;
    if (body) {
      const { content: bodyContent, ...bodyRest } = body;
      requestBody = { ...bodyRest, content: content(bodyContent as Json) };
    }
    return {
      [method as string]: {
        ...rest,
        ...(params.length > 0
          ? { parameters: [...((rest.parameters as Json[]) ?? []), ...params] }
          : {}),
        ...(requestBody ? { requestBody } : {}),
        responses: renderedResponses,
      },
    };
  };
  const webhooks: Record<string, Json> = {};
  for (const hook of source.webhooks)
    webhooks[hook.path as string] = { ...webhooks[hook.path as string], ...operation(hook) };
  const paths: Record<string, Json> = {};
  for (const route of source.routes)
    paths[route.path as string] = { ...paths[route.path as string], ...operation(route) };
  const raw: Record<string, Record<string, unknown>> = {};
  for (const { type, name, component } of source.components) {
    raw[type] ??= {};
    raw[type][name] = component;
  }
  return {
    ...head,
    components: {
      ...raw,
      schemas: { ...raw.schemas, ...schemas },
      parameters: { ...raw.parameters },
    },
    paths,
    webhooks,
  };
}

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (typeof value !== 'object' || value === null) return value;
  const out: Json = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof inner === 'string'
        ? inner.replace('#/$defs/', SCHEMA_REF)
        : rewriteRefs(inner);
  }
  return out;
}

function inlineParents(value: unknown, defs: Record<string, unknown>): unknown {
  if (Array.isArray(value)) return value.map((item) => inlineParents(item, defs));
  if (typeof value !== 'object' || value === null) return value;
  const node = value as Json;
  let out: Json = {};
  for (const [key, inner] of Object.entries(node)) out[key] = inlineParents(inner, defs);
  if (INLINE in out) {
    const { $ref, [INLINE]: metaKeys, ...own } = out;
    const id = String($ref).replace('#/$defs/', '');
    const parent = inlineParents(defs[id], defs) as Json;
    out = ordered({ ...parent, ...own }, metaKeys as string[]);
  }
  return out;
}

const WRAPPERS = new Set([
  'optional',
  'nullable',
  'default',
  'prefault',
  'readonly',
  'nonoptional',
]);

const defOf = (schema: $ZodType) => schema._zod.def as unknown as Json;

/** The schema under optional/nullable/default/… wrappers and pipes, as zod-to-openapi sees it. */
function unwrap(schema: $ZodType): $ZodType {
  const def = defOf(schema);
  if (WRAPPERS.has(def.type as string) && isZod(def.innerType)) return unwrap(def.innerType);
  if (def.type === 'pipe') {
    const input = def.in as $ZodType;
    return defOf(input).type === 'transform' ? unwrap(def.out as $ZodType) : unwrap(input);
  }
  return schema;
}

/**
 * The component a schema is a reference to, as zod-to-openapi decided it: the id of the outermost
 * schema that carries metadata of its own (a `.meta()` or `.describe()` clone), looking through
 * wrappers that carry none. A clone of a registered schema is not that schema: it is inlined.
 */
function refIdOf(schema: $ZodType): string | undefined {
  if (schema._zod.parent !== undefined || globalRegistry.has(schema)) {
    return (globalRegistry.get(schema) as Json | undefined)?.id as string | undefined;
  }
  const def = defOf(schema);
  if (WRAPPERS.has(def.type as string) && isZod(def.innerType)) return refIdOf(def.innerType);
  if (def.type === 'pipe') {
    const input = def.in as $ZodType;
    return refIdOf(defOf(input).type === 'transform' ? (def.out as $ZodType) : input);
  }
  return undefined;
}

function collectMetadata(schema: $ZodType, outer: Json = {}): Json {
  const own = (globalRegistry.get(schema) ?? {}) as Json;
  const merged = { ...own, ...outer };
  const def = defOf(schema);
  if (WRAPPERS.has(def.type as string) && isZod(def.innerType))
    return collectMetadata(def.innerType, merged);
  if (def.type === 'pipe') {
    const input = def.in as $ZodType;
    if (defOf(input).type === 'transform') return collectMetadata(def.out as $ZodType, merged);
    return collectMetadata(input, merged);
  }
  return merged;
}

const STRUCTURE = [
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
  for (const key of STRUCTURE) if (key in json) out[key] = json[key];
  for (const key of Object.keys(json))
    if (!(key in out) && !metaKeys.includes(key)) out[key] = json[key];
  for (const key of metaKeys) if (key in json && !(key in out)) out[key] = json[key];
  return out;
}

function replace(target: Json, next: Json): void {
  for (const key of Object.keys(target)) delete target[key];
  Object.assign(target, next);
}

function shape(schema: $ZodType, json: Json): void {
  const meta = collectMetadata(schema);
  delete meta.id;
  delete meta.param;
  delete json.param;
  const metaKeys = Object.keys(meta);
  const def = defOf(schema);
  if (typeof json.$ref === 'string') {
    if (!refIdOf(schema)) {
      json[INLINE] = metaKeys;
      return;
    }
    if (Object.keys(json).length > 1) {
      const { $ref, ...rest } = json;
      replace(json, { allOf: [{ $ref }, rest] });
    }
    return;
  }
  const core = unwrap(schema);
  const coreDef = defOf(core);
  if (def.type === 'nullable' && Array.isArray(json.anyOf)) {
    const [inner, ...others] = json.anyOf as Json[];
    const { anyOf: _anyOf, ...rest } = json;
    if (inner && others.length === 1) {
      if (typeof inner.$ref === 'string') {
        replace(json, { oneOf: [inner, { type: 'null' }], ...rest });
      } else if (Array.isArray(inner.anyOf)) {
        replace(json, { ...inner, anyOf: [...inner.anyOf, { type: 'null' }], ...rest });
      } else if (inner.type !== undefined) {
        const types = [...new Set([inner.type, 'null'].flat())];
        replace(json, {
          ...inner,
          type: types,
          ...(Array.isArray(inner.enum) ? { enum: [...inner.enum, null] } : {}),
          ...rest,
        });
      }
    }
  }
  switch (coreDef.type) {
    case 'number':
      if (json.minimum === Number.MIN_SAFE_INTEGER) delete json.minimum;
      if (json.maximum === Number.MAX_SAFE_INTEGER) delete json.maximum;
      break;
    case 'string': {
      delete json.pattern;
      const regex = ((coreDef.checks ?? []) as $ZodType[])
        .map((check) => defOf(check))
        .find((check) => check.check === 'string_format' && check.format === 'regex');
      if (regex) json.pattern = (regex.pattern as RegExp).source;
      break;
    }
    case 'literal':
      if ('const' in json && !Array.isArray(json.type)) {
        const value = json.const;
        delete json.const;
        json.type = value === null ? 'null' : typeof value;
        json.enum = [value];
      }
      break;
    case 'object': {
      const shapeOf = (coreDef.shape ?? {}) as Record<string, $ZodType>;
      const required = Object.entries(shapeOf)
        .filter(([, property]) => !safeParse(property, undefined).success)
        .map(([key]) => key);
      if (required.length > 0) json.required = required;
      else delete json.required;
      break;
    }
  }
  replace(json, ordered(json, metaKeys));
}
