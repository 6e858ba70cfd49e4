import type { Logger } from '../../platform/logger.js';
import type { QueueDefinition, QueuePort } from '../../platform/queue/queue.js';
import type { TimerPort, Timers } from '../../platform/timers/timers.js';

/**
 * The local stand-in for EventBridge Scheduler's one-time schedules: a timer in this process per
 * name, which sends its body to the local queue when it fires. Timers live in memory: a process
 * that dies loses them, as the port warns — the module that set them re-arms them from its own
 * data at start-up and sweeps for what is overdue.
 */
export class LocalTimers implements TimerPort {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly queues: QueuePort,
    private readonly logger?: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Timers set and not fired yet. */
  get size(): number {
    return this.pending.size;
  }

  timers(queue: QueueDefinition): Timers {
    return {
      set: async (name, at, body) => {
        const key = `${queue.id}\u0000${name}`;
        if (this.stopped || this.pending.has(key)) return;
        // setTimeout takes at most 2^31 − 1 ms (~24.8 days): a later deadline re-arms on the way.
        const arm = () => {
          const delay = Math.max(0, Math.min(at.getTime() - this.now(), MAX_DELAY_MS));
          const timer = setTimeout(() => {
            if (at.getTime() > this.now()) {
              arm();
              return;
            }
            this.pending.delete(key);
            this.queues
              .queue(queue)
              .send(body)
              .catch((error: unknown) =>
                this.logger?.error('timer could not send its message', {
                  queue: queue.id,
                  name,
                  error,
                }),
              );
          }, delay);
          timer.unref();
          this.pending.set(key, timer);
        };
        arm();
      },
    };
  }

  /** Drops every pending timer (the process is stopping: they are lost, as on a crash). */
  stop(): void {
    this.stopped = true;
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }
}

const MAX_DELAY_MS = 2 ** 31 - 1;
