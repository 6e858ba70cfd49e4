/**
 * At most `limit` tasks at a time per key, the rest queued in arrival order. For work on one hot
 * item whose every attempt costs a write whatever its outcome: fewer attempts in flight at once
 * means each decides on fresher state and fewer are doomed.
 */
export interface KeyedLimiter {
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
}

export function keyedLimiter(limit: number): KeyedLimiter {
  const lanes = new Map<string, { running: number; waiting: (() => void)[] }>();
  return {
    async run(key, task) {
      let lane = lanes.get(key);
      if (!lane) {
        lane = { running: 0, waiting: [] };
        lanes.set(key, lane);
      }
      if (lane.running >= limit) {
        await new Promise<void>((start) => lane?.waiting.push(start));
      }
      lane.running++;
      try {
        return await task();
      } finally {
        lane.running--;
        const next = lane.waiting.shift();
        if (next) next();
        else if (lane.running === 0) lanes.delete(key);
      }
    },
  };
}
