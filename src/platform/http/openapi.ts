import * as z from 'zod/mini';
import type { $ZodError, $ZodType } from 'zod/v4/core';
import { type FieldError, validationFailed } from '../errors.js';
import type { AppEnv } from './context.js';
import { Router } from './routes.js';

export const ProblemSchema = z
  .object({
    type: z.string().check(z.meta({ example: '/problems/request-validation-failed' })),
    title: z.string().check(z.meta({ example: 'Unprocessable Content' })),
    status: z.int().check(z.meta({ example: 422 })),
    detail: z.string(),
    instance: z.optional(z.string()),
    code: z
      .string()
      .check(z.meta({ description: 'Stable error code', example: 'WIDGETS.NOT_FOUND' })),
    requestId: z.optional(z.string()),
    errors: z.optional(
      z.array(z.object({ path: z.string(), message: z.string() })).check(
        z.meta({
          description: 'Validation errors, one per field (422, or 400 where a module says so).',
        }),
      ),
    ),
  })
  .check(z.meta({ id: 'Problem' }));

const problemDescriptions: Record<number, string> = {
  400: 'Malformed JSON, body or cursor',
  401: 'Missing or invalid credentials',
  403: 'Not allowed',
  404: 'Not found',
  405: 'Method not allowed',
  409: 'Conflict',
  410: 'Gone for good',
  413: 'Body over 64 KiB',
  415: 'Body is not JSON',
  422: 'Validation failed',
  429: 'Throttled',
  500: 'Internal error',
  503: 'A dependency is unavailable; retry after Retry-After seconds',
};

/** OpenAPI response entries for the listed error statuses, all `application/problem+json`. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: problemDescriptions[status] ?? 'Error',
        content: { 'application/problem+json': { schema: ProblemSchema } },
      },
    ]),
  );
}

export const jsonContent = <T extends $ZodType>(schema: T, description: string) => ({
  description,
  content: { 'application/json': { schema } },
});

export const jsonBody = <T extends $ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

const targetNames: Record<string, string> = { json: 'body', param: 'path' };

export function fieldErrors(target: string, error: $ZodError): FieldError[] {
  const prefix = targetNames[target] ?? target;
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].join('.'),
    message: issue.message,
  }));
}

export interface RouterOptions {
  /**
   * The error a request that fails its schemas becomes, from its field errors. Default: one 422
   * problem with `errors[]`; a module whose contract says otherwise (sla-errors and auth: 400
   * for every user error, docs/spec.md#status-codes) passes its own.
   */
  readonly invalid?: (errors: FieldError[]) => Error;
}

/** A router whose validation failures all become one problem with `errors[]` (422 by default). */
export function createRouter(options: RouterOptions = {}): Router<AppEnv> {
  const invalid = options.invalid ?? ((errors: FieldError[]) => validationFailed(errors));
  return new Router<AppEnv>((target, error) => invalid(fieldErrors(target, error)));
}
