/**
 * Retrying what AWS answers "not now" to, one way for every adapter: full-jitter exponential
 * backoff ("Exponential Backoff and Jitter", AWS Architecture Blog), and batches whose refused
 * entries are sent again. The SDK already retries a call that failed as a whole; these cover
 * what it does not: a transaction cancelled for contention, a batch call that succeeded but left
 * some entries out (UnprocessedKeys, UnprocessedItems, FailedEntryCount, Failed).
 */

export interface Backoff {
  /** The first wait's upper bound, doubled each attempt… */
  readonly baseMs: number;
  /** …up to this. */
  readonly capMs: number;
}

/** Waits a random time in [0, min(cap, base · 2^attempt)) before attempt `attempt` (1, 2, …). */
export function backoff(attempt: number, { baseMs, capMs }: Backoff): Promise<void> {
  const ms = Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
  return new Promise((done) => setTimeout(done, ms));
}

/** Entries a batch call still refused after every attempt. */
export class BatchRefusedError extends Error {
  override name = 'BatchRefusedError';
  constructor(
    readonly service: string,
    readonly refused: number,
  ) {
    super(`${service} refused ${refused} entr${refused === 1 ? 'y' : 'ies'} of a batch`);
  }
}

export interface BatchOptions<T> extends Backoff {
  /** The most entries one call takes (DynamoDB BatchGet 100, BatchWrite 25, SQS and EventBridge 10). */
  readonly size: number;
  /** Calls per chunk, the first included, before what is left is given up. */
  readonly attempts: number;
  /** Sends one chunk; resolves with the entries it did not take (to be sent again). */
  readonly send: (chunk: T[]) => Promise<readonly T[]>;
}

/**
 * Sends `entries` in chunks of `size`, each chunk's refused entries again after a backoff, up to
 * `attempts` calls per chunk; resolves with every entry still refused after that (none: all went).
 */
export async function sendInBatches<T>(
  entries: readonly T[],
  options: BatchOptions<T>,
): Promise<T[]> {
  const refused: T[] = [];
  for (let i = 0; i < entries.length; i += options.size) {
    let pending: readonly T[] = entries.slice(i, i + options.size);
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (attempt > options.attempts) {
        refused.push(...pending);
        break;
      }
      if (attempt > 1) await backoff(attempt - 1, options);
      pending = await options.send([...pending]);
    }
  }
  return refused;
}
