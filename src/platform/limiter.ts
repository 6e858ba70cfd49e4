/**
 * At most `limit` tasks at a time per key, the rest queued in arrival order. For work on one hot
 * item whose every attempt costs a write whatever its outcome: fewer attempts in flight at once
 * means each decides on fresher state and fewer are doomed. With `maxWaiting`, also an admission
 * limit: past that many queued, a task is refused at once (`LimiterFullError`) and never runs.
 */
export interface KeyedLimiter {
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
  /** Whether `run` would refuse a task for `key` now (never without `maxWaiting`). */
  isFull(key: string): boolean;
}

export interface KeyedLimiterOptions {
  /** Tasks that may wait per key; one more is refused. @default unbounded */
  readonly maxWaiting?: number;
}

/** A task refused because its key had `limit` running and `maxWaiting` queued: it never ran. */
export class LimiterFullError extends Error {
  override readonly name = 'LimiterFullError';
}

export function keyedLimiter(limit: number, options: KeyedLimiterOptions = {}): KeyedLimiter {
  const maxWaiting = options.maxWaiting ?? Number.POSITIVE_INFINITY;
  const lanes = new Map<string, { running: number; waiting: (() => void)[] }>();
  const isFull = (key: string) => {
    const lane = lanes.get(key);
    return lane !== undefined && lane.running >= limit && lane.waiting.length >= maxWaiting;
  };
  return {
    isFull,
    async run(key, task) {
      if (isFull(key)) throw new LimiterFullError(`more than ${limit} running and queued`);
      let lane = lanes.get(key);
      if (!lane) {
        lane = { running: 0, waiting: [] };
        lanes.set(key, lane);
      }
      // A place that frees up passes straight to the first waiter (still counted as running),
      // so a task arriving in between cannot take it too.
      if (lane.running >= limit) await new Promise<void>((start) => lane?.waiting.push(start));
      else lane.running++;
      try {
        return await task();
      } finally {
        const next = lane.waiting.shift();
        if (next) next();
        else if (--lane.running === 0) lanes.delete(key);
      }
    },
  };
}
