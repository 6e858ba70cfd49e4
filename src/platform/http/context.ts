import type { MiddlewareHandler } from 'hono';
import type { LambdaContext, LambdaEvent } from 'hono/aws-lambda';

/** Who made the request, once authentication has run. `id` never contains a secret. */
export interface Caller {
  readonly id: string;
  readonly via: 'api-key' | 'jwt';
  /** JWT subject/username, when authenticated with a token. */
  readonly subject?: string;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    caller: Caller | undefined;
    /** The app's Idempotency-Key store, run by routes that declare `idempotent`. */
    idempotency: MiddlewareHandler<AppEnv> | undefined;
    /**
     * A digest of (caller, method, path, Idempotency-Key) when the request carries a key: lets a
     * service recognise the retry of a request whose write committed but whose answer was lost.
     */
    requestKey: string | undefined;
  };
  /** Present only under the Lambda runtime (hono/aws-lambda passes the event through). */
  Bindings: {
    event?: LambdaEvent;
    lambdaContext?: LambdaContext;
  };
}
