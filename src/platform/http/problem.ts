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
  gone: 410,
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

/** The problem document of `error`; also for answers made where there is no request context. */
export function problemOf(
  error: AppError,
  at: { readonly instance?: string; readonly requestId?: string } = {},
): Problem {
  return {
    type: problemType(error.code),
    title: error.title,
    status: statusOf(error),
    detail: error.detail,
    ...(at.instance !== undefined ? { instance: at.instance } : {}),
    code: error.code,
    ...(at.requestId !== undefined ? { requestId: at.requestId } : {}),
    ...(error.errors ? { errors: error.errors } : {}),
  };
}

export function problemResponse(c: Context, error: AppError): Response {
  const status = statusOf(error);
  const body = problemOf(error, { instance: c.req.path, requestId: c.get('requestId') });
  const headers: Record<string, string> = {
    'content-type': PROBLEM_CONTENT_TYPE,
    ...error.headers,
  };
  if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
  return c.body(JSON.stringify(body), status, headers);
}

/** The generic 500 document: it says nothing of the cause, which is logged instead. */
export function internalProblem(
  at: { readonly instance?: string; readonly requestId?: string } = {},
): Problem {
  return {
    type: problemType('INTERNAL'),
    title: 'Internal Server Error',
    status: 500,
    detail: 'An unexpected error occurred. Quote the request id when reporting it.',
    ...(at.instance !== undefined ? { instance: at.instance } : {}),
    code: 'INTERNAL',
    ...(at.requestId !== undefined ? { requestId: at.requestId } : {}),
  };
}

export function internalErrorResponse(c: Context): Response {
  const body = internalProblem({ instance: c.req.path, requestId: c.get('requestId') });
  return c.body(JSON.stringify(body), 500, { 'content-type': PROBLEM_CONTENT_TYPE });
}

export { AppError };
