import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  type NativeAttributeValue,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

export type CancellationCode = string;

export type TransactOutcome =
  | { readonly ok: true }
  /**
   * Conditions failed: one code per item, in request order ('None' for items that passed), and
   * for a failed item that asked for it (ReturnValuesOnConditionCheckFailure), the item as it is.
   */
  | {
      readonly ok: false;
      readonly reasons: readonly CancellationCode[];
      readonly current: readonly (Record<string, NativeAttributeValue> | undefined)[];
    };

export class TransactionContentionError extends Error {
  override name = 'TransactionContentionError';
}

export interface TransactOptions {
  /** Attempts when DynamoDB cancels for TransactionConflict (contention, not a failed condition). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

/**
 * TransactWriteItems that separates the two ways a transaction is cancelled. A failed condition
 * is an answer about the data: it comes back as `{ ok: false, reasons }` for the caller to read.
 * A TransactionConflict means another transaction touched the same items at the same moment:
 * that is retried here with full-jitter exponential backoff, and when the attempts run out it
 * becomes a TransactionContentionError (the caller answers 503 + Retry-After, never 500).
 */
export async function transactWrite(
  doc: DynamoDBDocumentClient,
  input: TransactWriteCommandInput,
  options: TransactOptions = {},
): Promise<TransactOutcome> {
  const maxAttempts = options.maxAttempts ?? 8;
  const base = options.baseDelayMs ?? 15;
  const cap = options.maxDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      await doc.send(new TransactWriteCommand(input));
      return { ok: true };
    } catch (error) {
      const cancelled = cancellationReasons(error);
      if (!cancelled) throw error;
      const reasons = cancelled.map((reason) => reason.Code ?? 'None');
      const contended = reasons.some(
        (code) => code === 'TransactionConflict' || code === 'ThrottlingError',
      );
      if (!contended) {
        const current = cancelled.map((reason) =>
          reason.Item ? unmarshall(reason.Item) : undefined,
        );
        return { ok: false, reasons, current };
      }
      if (attempt >= maxAttempts) {
        throw new TransactionContentionError('transaction kept conflicting', { cause: error });
      }
      const delay = Math.random() * Math.min(cap, base * 2 ** attempt);
      await new Promise((resolve) => setTimeout(resolve, delay));
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
