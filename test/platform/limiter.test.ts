import { describe, expect, it } from 'vitest';
import { keyedLimiter, LimiterFullError } from '../../src/platform/limiter.js';

/** A task that runs until `finish()`; `started` tells whether it began. */
function heldTask() {
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const task = { started: false, finish: () => finish(), run: async () => {} };
  task.run = async () => {
    task.started = true;
    await done;
  };
  return task;
}

const tick = () => new Promise<void>((done) => setImmediate(done));

describe('keyedLimiter', () => {
  it('runs at most `limit` tasks per key, the next as soon as one ends', async () => {
    const limiter = keyedLimiter(2);
    const tasks = [heldTask(), heldTask(), heldTask()];
    const runs = tasks.map((task) => limiter.run('k', task.run));
    await tick();
    const before = tasks.map((task) => task.started);

    tasks[0]?.finish();
    await tick();

    expect(before).toEqual([true, true, false]);
    expect(tasks[2]?.started).toBe(true);
    for (const task of tasks) task.finish();
    await Promise.all(runs);
  });

  it('refuses a task past `maxWaiting` queued without running it, and says so beforehand', async () => {
    const limiter = keyedLimiter(1, { maxWaiting: 1 });
    const tasks = [heldTask(), heldTask()];
    const runs = tasks.map((task) => limiter.run('k', task.run));
    const extra = heldTask();

    const full = limiter.isFull('k');
    const refused = limiter.run('k', extra.run);

    expect(full).toBe(true);
    expect(limiter.isFull('other')).toBe(false);
    await expect(refused).rejects.toBeInstanceOf(LimiterFullError);
    expect(extra.started).toBe(false);
    for (const task of tasks) task.finish();
    await Promise.all(runs);
    expect(limiter.isFull('k')).toBe(false);
  });

  it('hands a freed place to the first waiter, not to a task arriving meanwhile', async () => {
    const limiter = keyedLimiter(1);
    const [first, waiter, late] = [heldTask(), heldTask(), heldTask()];
    const runs = [limiter.run('k', first.run), limiter.run('k', waiter.run)];
    await tick();

    // The newcomer arrives after the first task's place is freed, before the waiter resumes.
    first.finish();
    queueMicrotask(() => queueMicrotask(() => runs.push(limiter.run('k', late.run))));
    await tick();

    expect([waiter.started, late.started]).toEqual([true, false]);
    waiter.finish();
    late.finish();
    await Promise.all(runs);
  });
});
