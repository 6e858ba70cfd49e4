import { describe, expect, it } from 'vitest';
import { MemoryThrottle } from '../../src/modules/auth/auth.throttle.js';

const settings = { burst: 2, decaySeconds: 60 };

describe('MemoryThrottle (the per-username throttle, in memory)', () => {
  it('allows the burst, then refuses until one attempt has decayed', () => {
    const throttle = new MemoryThrottle(settings);

    const answers = [0, 0, 0, 59_000, 60_000].map((now) => throttle.take('k', now));

    expect(answers).toEqual([
      { ok: true },
      { ok: true },
      { ok: false, retryAfterSeconds: 60 },
      { ok: false, retryAfterSeconds: 1 },
      { ok: true },
    ]);
  });

  it('gives an attempt back', () => {
    const throttle = new MemoryThrottle(settings);
    throttle.take('k', 0);
    throttle.take('k', 0);

    throttle.giveBack('k');

    expect(throttle.take('k', 0).ok).toBe(true);
  });

  it('keeps at most its capacity of keys, forgetting the least recently seen', () => {
    const throttle = new MemoryThrottle(settings, 3);
    for (const key of ['a', 'b', 'c']) throttle.take(key, 0);
    throttle.take('a', 0);

    throttle.take('d', 0);

    expect(['a', 'b', 'c', 'd'].map((key) => throttle.tat(key) !== undefined)).toEqual([
      true,
      false,
      true,
      true,
    ]);
  });
});
