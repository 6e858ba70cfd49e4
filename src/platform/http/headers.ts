/**
 * Header facts kept once: the app's CORS middleware and the API Gateway stack (preflights and
 * gateway error responses) both read these lists.
 */

/** Request headers a browser may send cross-origin. */
export const CORS_ALLOW_HEADERS = [
  'Content-Type',
  'Authorization',
  'X-Api-Key',
  'Idempotency-Key',
  'X-Request-Id',
  'If-None-Match',
  // What a browser page sends when it signs requests with AWS credentials (SigV4: the AWS SDK,
  // Amplify): kept from the original system's list so such a frontend still passes a preflight.
  'X-Amz-Date',
  'X-Amz-Security-Token',
] as const;

/** Response headers a browser script may read. */
export const CORS_EXPOSE_HEADERS = [
  'X-Request-Id',
  'Link',
  'Location',
  'Retry-After',
  'Idempotent-Replayed',
  'ETag',
  // The server's clock, for a page that counts down to a deadline on a device whose clock is off.
  'Date',
] as const;

export const CORS_ALLOW_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Seconds a browser may cache a preflight answer. */
export const CORS_MAX_AGE_SECONDS = 600;
