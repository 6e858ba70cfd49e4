import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../errors.js';
import type { AppEnv } from './context.js';

export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Deepest nesting of arrays and objects a body may have. Our schemas need 3; anything near this
 * bound is an attack on recursive code downstream (hashing, validation, logging), refused here.
 */
export const MAX_JSON_DEPTH = 32;

const methodsWithBody = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const JSON_CONTENT_TYPE = /^application\/([a-z0-9.+-]+\+)?json(\s*;.*)?$/i;

/** 413 over 64 KiB, counted on the stream too (a lying or missing Content-Length doesn't help). */
const limitBody = (): MiddlewareHandler<AppEnv> =>
  bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new AppError('payload_too_large', 'REQUEST.BODY_TOO_LARGE', 'Content Too Large', {
        detail: `The request body exceeds ${MAX_BODY_BYTES} bytes.`,
      });
    },
  });

/**
 * The body checks — the size limit, then JSON — as one middleware. A request without a body
 * passes in one step: reading `body` would make the Node adapter build a full Request (and an
 * AbortController) for nothing.
 */
export const checkBody = (): MiddlewareHandler<AppEnv> => {
  const limit = limitBody();
  const json = requireJsonBody();
  return async (c, next) => {
    if (!methodsWithBody.has(c.req.method)) return next();
    await limit(c, async () => {
      await json(c, next);
    });
  };
};

/**
 * Every non-empty body (of a method that has one: checkBody decides) must be JSON: 415 for
 * another media type, 400 when it does not parse.
 * The parsed text stays in Hono's body cache, so validators don't read the stream twice.
 */
const requireJsonBody = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const text = await c.req.text();
  if (text.length === 0) return next();
  const contentType = c.req.header('content-type') ?? '';
  if (!JSON_CONTENT_TYPE.test(contentType)) {
    throw new AppError(
      'unsupported_media_type',
      'REQUEST.UNSUPPORTED_MEDIA_TYPE',
      'Unsupported Media Type',
      {
        detail: 'Send the body as application/json.',
        headers: { 'accept-post': 'application/json' },
      },
    );
  }
  if (nestingExceeds(text, MAX_JSON_DEPTH)) {
    throw new AppError('bad_request', 'REQUEST.JSON_TOO_DEEP', 'Bad Request', {
      detail: `The body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`,
    });
  }
  try {
    JSON.parse(text);
  } catch {
    // Not the parser's message: it is raw exception text and quotes a slice of the body back.
    throw new AppError('bad_request', 'REQUEST.MALFORMED_JSON', 'Bad Request', {
      detail: 'The body is not valid JSON.',
    });
  }
  return next();
};

/** Whether JSON text nests `[`/`{` deeper than `max`, by one iterative pass (strings skipped). */
export function nestingExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x5b || ch === 0x7b) {
      if (++depth > max) return true;
    } else if (ch === 0x5d || ch === 0x7d) depth--;
  }
  return false;
}
