/**
 * SDK failures that mean "DynamoDB is not answering right now" rather than "this code is wrong".
 * They are answered 503 with Retry-After instead of 500.
 */
const unavailableNames = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'AbortError',
  // transactions.ts: TransactionConflict retried until the attempts ran out.
  'TransactionContentionError',
  // A single-item write to an item a transaction is writing at that moment (DynamoDB refuses
  // it rather than wait): the transaction will be done in milliseconds, so a retry succeeds.
  'TransactionConflictException',
  // retry.ts: a batch call kept leaving some entries out (unprocessed, throttled).
  'BatchRefusedError',
]);

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
]);

export function isDependencyUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (unavailableNames.has(error.name)) return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && unavailableCodes.has(code)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return error.cause !== undefined && error.cause !== error && isDependencyUnavailable(error.cause);
}
