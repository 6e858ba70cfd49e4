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
  };
  /** Present only under the Lambda runtime (hono/aws-lambda passes the event through). */
  Bindings: {
    event?: LambdaEvent;
    lambdaContext?: LambdaContext;
  };
}
