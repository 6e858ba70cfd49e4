import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { APIGatewayProxyEvent, Context as LambdaContext } from 'aws-lambda';
import { Hono } from 'hono';
import { compress } from 'hono/compress';
import { AppError } from '../../platform/errors.js';
import type { AppEnv } from '../../platform/http/context.js';
import { problemResponse } from '../../platform/http/problem.js';
import { type PublicRoute, publicRouteMatcher } from '../../platform/http/public-routes.js';
import type { Logger } from '../../platform/logger.js';

/**
 * The downloads of `app` (`routes`: the exports function serves nothing else; the gateway sends
 * it nothing else), compressed for a client that accepts it: API Gateway compresses no streamed
 * answer, while the buffered API's were gzipped at the gateway. Any other request is a 404.
 */
export function downloadsOnly(app: Hono<AppEnv>, routes: readonly PublicRoute[]): Hono<AppEnv> {
  const serves = publicRouteMatcher(routes);
  const downloads = new Hono<AppEnv>();
  downloads.use(compress({ contentTypeFilter: /^text\/csv/ }));
  downloads.all('*', (c) =>
    serves(c.req.method, c.req.path)
      ? app.fetch(c.req.raw, c.env)
      : problemResponse(
          c,
          new AppError('not_found', 'REQUEST.ROUTE_NOT_FOUND', 'Not Found', {
            detail: `No route for ${c.req.method} ${c.req.path} in this function (the CSV downloads).`,
          }),
        ),
  );
  return downloads;
}

/**
 * API Gateway (REST, Lambda proxy integration with `responseTransferMode: STREAM`) → `app`, its
 * answer written to Lambda's response stream as it is produced: first the status and headers
 * (the metadata of Lambda's HTTP integration format, which `awslambda.HttpResponseStream.from`
 * puts before the first write, followed by 8 NUL bytes), then each chunk of the body, waiting
 * whenever the stream is full. The request is built from the event as `hono/aws-lambda`'s buffered
 * `handle` builds it (the API function's), and the app sees the same bindings.
 *
 * A body that fails once it has started (a page that cannot be read) is not ended: the error is
 * logged and thrown back to the runtime, which reports the invocation failed, so the transfer is
 * cut and a partial file can't pass for a whole one. Hono's `streamHandle` would write "Internal
 * Server Error" and end the stream instead, and it also writes that text with no metadata when
 * the app throws before answering.
 */
export function streamingHandler(
  app: Hono<AppEnv>,
  logger: Logger,
): (event: APIGatewayProxyEvent, stream: Writable, context: LambdaContext) => Promise<void> {
  return async (event, responseStream, lambdaContext) => {
    const requestContext = event.requestContext;
    const response = await app.fetch(requestOf(event), { event, requestContext, lambdaContext });
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie') headers[name] = value;
    });
    const cookies = response.headers.getSetCookie();
    const stream = awslambda.HttpResponseStream.from(responseStream, {
      statusCode: response.status,
      headers,
      ...(cookies.length > 0 ? { multiValueHeaders: { 'set-cookie': cookies } } : {}),
    });
    try {
      await writeBody(response.body, stream);
    } catch (error) {
      logger.error('the answer failed after it had started: transfer cut', {
        requestId: headers['x-request-id'],
        path: event.path,
        error,
      });
      throw error;
    }
    stream.end();
  };
}

/** Every chunk of `body` into `stream`; an empty body still writes, which sends the metadata. */
async function writeBody(body: ReadableStream<Uint8Array> | null, stream: Writable) {
  if (!body) {
    stream.write('');
    return;
  }
  const reader = body.getReader();
  let written = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      written = true;
      if (!stream.write(value)) await once(stream, 'drain');
    }
  } catch (error) {
    // The stream failed (the client went away): stop reading; a failed body: nothing to stop.
    await reader.cancel(error).catch(() => undefined);
    throw error;
  }
  if (!written) stream.write('');
}

/** The request `hono/aws-lambda`'s `handle` makes of a REST (v1) proxy event. */
function requestOf(event: APIGatewayProxyEvent): Request {
  const headers = new Headers();
  for (const [name, values] of Object.entries(event.multiValueHeaders ?? {})) {
    for (const value of values ?? []) headers.append(name, headerValue(value));
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && !headers.has(name)) headers.set(name, headerValue(value));
  }
  const pairs = event.multiValueQueryStringParameters
    ? Object.entries(event.multiValueQueryStringParameters).flatMap(([name, values]) =>
        (values ?? []).map((value) => [name, value] as const),
      )
    : Object.entries(event.queryStringParameters ?? {}).map(
        ([name, value]) => [name, value ?? ''] as const,
      );
  const query = pairs
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&');
  const host = event.requestContext?.domainName ?? headers.get('host');
  const url = `https://${host}${event.path}${query ? `?${query}` : ''}`;
  // GET and HEAD only reach this function: a body, if any, is not passed on.
  return new Request(url, { method: event.httpMethod, headers });
}

/** A header value the Fetch API accepts (non-ASCII percent-encoded, as `handle` does). */
const headerValue = (value: string) =>
  /\P{ASCII}/u.test(value) ? encodeURIComponent(value) : value;
