import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  type NativeAttributeValue,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { backoff } from '../retry.js';

export type CancellationCode = string;

export type TransactOutcome =
  | { readonly ok: true }
  /**
   * Conditions failed: one code per item, in request order — 'ConditionalCheckFailed' or 'None'
   * (passed, or not evaluated), nothing else — and for a failed item that asked for it
   * (ReturnValuesOnConditionCheckFailure), the item as it is.
   */
  | {
      readonly ok: false;
      readonly reasons: readonly CancellationCode[];
      readonly current: readonly (Record<string, NativeAttributeValue> | undefined)[];
    };

export class TransactionContentionError extends Error {
  override name = 'TransactionContentionError';
}

/** Calls when DynamoDB keeps cancelling for contention or throughput, and the waits between. */
const CONTENTION = { attempts: 8, baseMs: 15, capMs: 500 } as const;

/** Cancellation codes that say nothing about the data: another try may pass. */
const TRANSIENT = new Set([
  'TransactionConflict',
  'ThrottlingError',
  'ProvisionedThroughputExceeded',
]);

/**
 * TransactWriteItems that sorts out the ways a transaction is cancelled. Failed conditions
 * (and nothing else) are an answer about the data: they come back as `{ ok: false, reasons }` for
 * the caller to read. Contention (TransactionConflict: another transaction touched the same items
 * at the same moment) and throttling are retried here with full-jitter exponential backoff, and
 * when the attempts run out become a TransactionContentionError (the caller answers 503 +
 * Retry-After, never 500). Any other cancellation (ValidationError,
 * ItemCollectionSizeLimitExceeded) is thrown as it came: it is a fault, not an answer.
 */
export async function transactWrite(
  doc: DynamoDBDocumentClient,
  input: TransactWriteCommandInput,
): Promise<TransactOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      await doc.send(new TransactWriteCommand(input));
      return { ok: true };
    } catch (error) {
      const cancelled = cancellationReasons(error);
      if (!cancelled) throw error;
      const reasons = cancelled.map((reason) => reason.Code ?? 'None');
      if (!reasons.some((code) => TRANSIENT.has(code))) {
        const failed = reasons.filter((code) => code !== 'None');
        if (failed.length === 0 || failed.some((code) => code !== 'ConditionalCheckFailed')) {
          throw error;
        }
        const current = cancelled.map((reason) =>
          reason.Item ? unmarshall(reason.Item) : undefined,
        );
        return { ok: false, reasons, current };
      }
      if (attempt >= CONTENTION.attempts) {
        throw new TransactionContentionError('transaction kept conflicting', { cause: error });
      }
      await backoff(attempt, CONTENTION);
    }
  }
}

/**
 * A single-item write refused because a transaction held its item at that moment
 * (TransactionConflictException: DynamoDB refuses rather than waits, and the SDK does not retry
 * it): nothing was written, and the transaction is done within milliseconds, so the write is sent
 * again after a jittered pause, as transactions are; when the attempts run out it is a
 * TransactionContentionError (503 + Retry-After).
 */
export async function retryingConflicts<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if ((error as Error)?.name !== 'TransactionConflictException') throw error;
      if (attempt >= CONTENTION.attempts) {
        throw new TransactionContentionError('the item stayed held by transactions', {
          cause: error,
        });
      }
      await backoff(attempt, CONTENTION);
    }
  }
}

function cancellationReasons(
  error: unknown,
): NonNullable<TransactionCanceledException['CancellationReasons']> | undefined {
  if (
    error instanceof TransactionCanceledException ||
    (error as Error)?.name === 'TransactionCanceledException'
  ) {
    return (error as TransactionCanceledException).CancellationReasons ?? [];
  }
  return undefined;
}
