import createClient from 'openapi-fetch';
import { ApiError, networkProblem, type Problem, problemOf } from '../lib/problem';
import { authHeaders, type Credential } from '../lib/session';
import { apiOperations } from './operations.gen';
import type { components, paths } from './schema.gen';

/** The API's schemas, as the console sees them (generated from the app's OpenAPI document). */
export type Schemas = components['schemas'];

export interface ApiOptions {
  readonly baseUrl: string;
  /** The signed-in credential, read at each request. */
  readonly credential: () => Credential | undefined;
  /** Called when the API refuses a request sent with the signed-in credential (401). */
  readonly onUnauthorized: (credential: Credential, problem: Problem) => void;
}

/**
 * The typed API client (openapi-fetch over the generated `paths`): a call to a route or with a
 * body the API doesn't have fails the console's typecheck. The credential goes in a header,
 * never in the URL.
 */
export function createApi(options: ApiOptions) {
  // JSON and problem documents only: a list that also answers CSV (to `Accept: text/csv`) is
  // read as JSON here.
  const client = createClient<paths, `application/${string}json`>({ baseUrl: options.baseUrl });
  /** The stored credential, if this request carried it (not a key being tried at sign-in). */
  const storedCredentialOf = (request: Request): Credential | undefined => {
    const credential = options.credential();
    if (!credential) return undefined;
    const sent = Object.entries(authHeaders(credential)).every(
      ([name, value]) => request.headers.get(name) === value,
    );
    return sent ? credential : undefined;
  };
  client.use({
    onRequest({ request }) {
      const credential = options.credential();
      // A call that brings its own credential (a key being tried at sign-in) keeps it.
      if (!credential || request.headers.has('x-api-key') || request.headers.has('authorization')) {
        return request;
      }
      for (const [name, value] of Object.entries(authHeaders(credential))) {
        request.headers.set(name, value);
      }
      return request;
    },
    async onResponse({ request, response }) {
      if (response.status !== 401) return response;
      const credential = storedCredentialOf(request);
      if (credential) {
        const body: unknown = await response
          .clone()
          .json()
          .catch(() => undefined);
        options.onUnauthorized(credential, problemOf(401, response.statusText, body));
      }
      return response;
    },
  });
  return client;
}

export type Api = ReturnType<typeof createApi>;

interface CallResult<T> {
  readonly data?: T;
  readonly error?: unknown;
  readonly response: Response;
}

/** An openapi-fetch call's data and response; a failure becomes an `ApiError` with its problem. */
export async function unwrap<T>(
  call: Promise<CallResult<T>>,
): Promise<{ data: T; response: Response }> {
  let result: CallResult<T>;
  try {
    result = await call;
  } catch (error) {
    throw new ApiError(networkProblem(error));
  }
  const { response } = result;
  if (!response.ok)
    throw new ApiError(problemOf(response.status, response.statusText, result.error));
  return { data: result.data as T, response };
}

/** Whether the API the console was built against has an operation (`POST /auth/token`). */
export const hasOperation = (operation: string): boolean => apiOperations.includes(operation);

/** A fresh Idempotency-Key for one create: a retry of the same submission replays its answer. */
export const idempotencyKey = (): string => crypto.randomUUID();
