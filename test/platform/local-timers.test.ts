import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { QueueDefinition } from '../../src/platform/queue/queue.js';
import { LocalQueues } from '../../src/runtime/local/queue.js';
import { LocalTimers } from '../../src/runtime/local/timers.js';

const offers: QueueDefinition = {
  id: 'offer-expiries',
  maxReceiveCount: 5,
  consumerTimeoutSeconds: 30,
  batchSize: 10,
  timerTarget: true,
};

/*
 * The local timers on a real LocalQueues, under Vitest's fake clock: `setTimeout` and `Date.now`
 * move only when the test advances them, so "not before the deadline" is checked to the
 * millisecond without waiting for it.
 */
beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2030-01-02T00:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

function localTimers() {
  const queues = new LocalQueues({ now: () => Date.now() });
  const port = new LocalTimers(queues, undefined, () => Date.now());
  return { port, timers: port.timers(offers), queues };
}

const bodies = async (queues: LocalQueues) =>
  (await queues.receive(offers, 10)).map((message) => message.body);

describe('LocalTimers (timers in the process, onto the local queues)', () => {
  it('sends the body to the queue at the deadline, not before', async () => {
    const { timers, queues } = localTimers();

    await timers.set('offer:e1:r1', new Date(Date.now() + 5_000), '{"offer":"r1"}');

    await vi.advanceTimersByTimeAsync(4_999);
    expect(queues.depth(offers)).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await bodies(queues)).toEqual(['{"offer":"r1"}']);
  });

  it('keeps one timer when the same name is set again while it is pending (the first)', async () => {
    const { port, timers, queues } = localTimers();
    const at = new Date(Date.now() + 1_000);

    await timers.set('offer:e1:r1', at, 'first');
    await timers.set('offer:e1:r1', new Date(Date.now() + 500), 'second');
    expect(port.size).toBe(1);

    await vi.advanceTimersByTimeAsync(1_000);
    expect(await bodies(queues)).toEqual(['first']);
    expect(port.size).toBe(0);
  });

  it('tells timers of the same name on different queues apart', async () => {
    const { port, queues } = localTimers();
    const reminders: QueueDefinition = { ...offers, id: 'reminders' };
    const at = new Date(Date.now() + 1_000);

    await port.timers(offers).set('n', at, 'offer');
    await port.timers(reminders).set('n', at, 'reminder');

    await vi.advanceTimersByTimeAsync(1_000);
    expect(await bodies(queues)).toEqual(['offer']);
    expect((await queues.receive(reminders, 10)).map((m) => m.body)).toEqual(['reminder']);
  });

  it('sends a deadline already past right away', async () => {
    const { timers, queues } = localTimers();

    await timers.set('late', new Date(Date.now() - 60_000), 'overdue');

    await vi.advanceTimersByTimeAsync(0);
    expect(await bodies(queues)).toEqual(['overdue']);
  });

  it('holds a deadline beyond what one setTimeout can wait (~24.8 days) until it comes', async () => {
    const { timers, queues } = localTimers();
    const thirtyDays = 30 * 24 * 3_600_000;

    await timers.set('far', new Date(Date.now() + thirtyDays), 'far');

    await vi.advanceTimersByTimeAsync(thirtyDays - 1);
    expect(queues.depth(offers)).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await bodies(queues)).toEqual(['far']);
  });

  it('drops pending timers on stop(), and sets none afterwards (as a crash would lose them)', async () => {
    const { port, timers, queues } = localTimers();

    await timers.set('pending', new Date(Date.now() + 1_000), 'lost');
    port.stop();
    await timers.set('after-stop', new Date(Date.now() + 1_000), 'never');

    expect(port.size).toBe(0);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(queues.depth(offers)).toBe(0);
  });
});
