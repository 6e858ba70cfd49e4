/**
 * One error type for everything the client is meant to see. Modules throw `AppError`s with a
 * stable `code`; `platform/http/problem.ts` maps `kind` to a status and an RFC 9457 body.
 * Anything else that escapes is a bug: logged with its cause and answered as a generic 500.
 */

export type ErrorKind =
  | 'bad_request'
  | 'validation'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  /** What the request names existed and has ended for good (an offer past its deadline). */
  | 'gone'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'throttled'
  | 'unavailable';

export interface FieldError {
  /** JSON-pointer-like path, e.g. `body.capacity` or `query.limit`. */
  readonly path: string;
  readonly message: string;
}

export interface AppErrorOptions {
  readonly detail?: string;
  readonly errors?: readonly FieldError[];
  /** Seconds, for `unavailable` and `throttled`. */
  readonly retryAfter?: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly cause?: unknown;
}

export class AppError extends Error {
  override name = 'AppError';
  readonly errors: readonly FieldError[] | undefined;
  readonly retryAfter: number | undefined;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    readonly title: string,
    options: AppErrorOptions = {},
  ) {
    super(options.detail ?? title, { cause: options.cause });
    this.errors = options.errors;
    this.retryAfter = options.retryAfter;
    this.headers = options.headers;
  }

  get detail(): string {
    return this.message;
  }
}

export const notFound = (code: string, detail: string) =>
  new AppError('not_found', code, 'Not Found', { detail });

export const conflict = (code: string, detail: string) =>
  new AppError('conflict', code, 'Conflict', { detail });

export const gone = (code: string, detail: string) =>
  new AppError('gone', code, 'Gone', { detail });

export const badRequest = (code: string, detail: string) =>
  new AppError('bad_request', code, 'Bad Request', { detail });

export const validationFailed = (errors: readonly FieldError[], detail?: string) =>
  new AppError('validation', 'REQUEST.VALIDATION_FAILED', 'Unprocessable Content', {
    detail: detail ?? 'The request did not match the schema.',
    errors,
  });

/**
 * The same field errors as `validationFailed`, answered 400: for a module whose contract makes
 * every user error a 400 (sla-errors and auth, docs/spec.md#status-codes), passed to
 * `createRouter({ invalid })`.
 */
export const invalidRequest = (errors: readonly FieldError[], detail?: string) =>
  new AppError('bad_request', 'REQUEST.VALIDATION_FAILED', 'Bad Request', {
    detail: detail ?? 'The request did not match the schema.',
    errors,
  });

export const unavailable = (code: string, detail: string, retryAfter = 1, cause?: unknown) =>
  new AppError('unavailable', code, 'Service Unavailable', { detail, retryAfter, cause });
