import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AppError, type ErrorKind, type FieldError } from '../errors.js';

/** RFC 9457 problem details, the body of every error response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: string;
  requestId?: string;
  errors?: readonly FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const statusByKind: Record<ErrorKind, ContentfulStatusCode> = {
  bad_request: 400,
  validation: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  throttled: 429,
  unavailable: 503,
};

export function statusOf(error: AppError): ContentfulStatusCode {
  return statusByKind[error.kind];
}

/** Problem type URIs are relative references under /problems, one per stable error code. */
export function problemType(code: string): string {
  return `/problems/${code.toLowerCase().replaceAll('.', '-').replaceAll('_', '-')}`;
}

export function problemResponse(c: Context, error: AppError): Response {
  const status = statusOf(error);
  const body: Problem = {
    type: problemType(error.code),
    title: error.title,
    status,
    detail: error.detail,
    instance: c.req.path,
    code: error.code,
    requestId: c.get('requestId'),
    ...(error.errors ? { errors: error.errors } : {}),
  };
  const headers: Record<string, string> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    ...error.headers,
  };
  if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
  return c.body(JSON.stringify(body), status, headers);
}

export function internalErrorResponse(c: Context): Response {
  const body: Problem = {
    type: problemType('INTERNAL'),
    title: 'Internal Server Error',
    status: 500,
    detail: 'An unexpected error occurred. Quote the request id when reporting it.',
    instance: c.req.path,
    code: 'INTERNAL',
    requestId: c.get('requestId'),
  };
  return c.body(JSON.stringify(body), 500, { 'content-type': PROBLEM_CONTENT_TYPE });
}

export { AppError };
