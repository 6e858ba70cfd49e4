import type { LoginThrottleSettings } from './auth.model.js';
import { decideAttempt } from './auth.rules.js';

/**
 * The cell-rate throttle of auth.rules.ts kept in this process's memory, for what must not cost a
 * table item per key: client addresses, and usernames nobody has. At most `capacity` keys are
 * kept; past that the least recently seen is forgotten (so memory stays bounded whatever an
 * attacker sends, at the price of a fresh allowance for a key unseen for a long while).
 */
export class MemoryThrottle {
  private readonly tats = new Map<string, number>();

  constructor(
    private readonly settings: LoginThrottleSettings,
    private readonly capacity = 10_000,
  ) {}

  /** The key's `tat` (epoch ms), as the table would hold it; undefined when none is kept. */
  tat(key: string): number | undefined {
    return this.tats.get(key);
  }

  /** Takes one attempt for `key` at `now`, or says how many seconds until one is free. */
  take(key: string, now: number): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const current = this.tats.get(key);
    const decision = decideAttempt(current, now, this.settings);
    if (decision.kind === 'refuse')
      return { ok: false, retryAfterSeconds: decision.retryAfterSeconds };
    const tat = decision.kind === 'start' ? decision.tat : (current ?? now) + decision.by;
    // Re-inserted, so the Map's order is least recently seen first.
    this.tats.delete(key);
    this.tats.set(key, tat);
    if (this.tats.size > this.capacity) {
      const oldest = this.tats.keys().next().value;
      if (oldest !== undefined) this.tats.delete(oldest);
    }
    return { ok: true };
  }

  /** Gives one attempt back (one that was never checked, or that succeeded). */
  giveBack(key: string): void {
    const tat = this.tats.get(key);
    if (tat !== undefined) this.tats.set(key, tat - this.settings.decaySeconds * 1000);
  }
}
