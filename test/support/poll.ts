/** Waiting in tests: a pause, and polling until something holds. */

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

export interface UntilOptions {
  /** How long to keep reading. @default 30 000 */
  readonly timeoutMs?: number;
  /** The pause between two reads. @default 200 */
  readonly intervalMs?: number;
}

/**
 * Reads `read()` until `done(value)` holds or `timeoutMs` has passed, `intervalMs` apart, and
 * returns the last value read: it does not throw when time runs out, so the caller's assertions
 * on that value say what was wrong.
 */
export async function until<T>(
  read: () => T | Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 30_000, intervalMs = 200 }: UntilOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(intervalMs);
    value = await read();
  }
  return value;
}
