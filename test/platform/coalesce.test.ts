import { describe, expect, it } from 'vitest';
import { Coalescer } from '../../src/platform/coalesce.js';

/** A work function whose runs end when the test says, recording when each started. */
function gatedWork() {
  const started: string[] = [];
  const gates: Array<() => void> = [];
  const work = async (key: string) => {
    const run = started.length + 1;
    started.push(key);
    await new Promise<void>((resolve) => gates.push(resolve));
    return run;
  };
  const release = async () => {
    gates.shift()?.();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { started, work, release };
}

describe('Coalescer', () => {
  it('folds the calls made during a run into one next run, which starts after it', async () => {
    const { started, work, release } = gatedWork();
    const coalescer = new Coalescer(work);
    const first = coalescer.run('a');
    const during = [coalescer.run('a'), coalescer.run('a'), coalescer.run('a')];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a']);
    await release();
    expect(await first).toBe(1);
    expect(started).toEqual(['a', 'a']);
    await release();
    expect(await Promise.all(during)).toEqual([2, 2, 2]);
    // Idle again: the next call starts a run of its own at once.
    const later = coalescer.run('a');
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toHaveLength(3);
    await release();
    expect(await later).toBe(3);
  });

  it('tells the run under way, if any', async () => {
    const { work, release } = gatedWork();
    const coalescer = new Coalescer(work);
    expect(coalescer.current('a')).toBeUndefined();
    const first = coalescer.run('a');
    const next = coalescer.run('a');
    expect(coalescer.current('a')).toBe(first);
    await release();
    await first;
    const second = coalescer.current('a');
    await release();
    expect(await second).toBe(await next);
    expect(coalescer.current('a')).toBeUndefined();
  });

  it('runs different keys side by side', async () => {
    const { started, work, release } = gatedWork();
    const coalescer = new Coalescer(work);
    const runs = [coalescer.run('a'), coalescer.run('b')];
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual(['a', 'b']);
    await release();
    await release();
    expect(await Promise.all(runs)).toEqual([1, 2]);
  });

  it('starts the next run after a run that failed, and reports each failure to its callers', async () => {
    let calls = 0;
    const coalescer = new Coalescer(async () => {
      calls++;
      await new Promise((resolve) => setImmediate(resolve));
      if (calls === 1) throw new Error('first run failed');
      return calls;
    });
    const first = coalescer.run('a');
    const next = coalescer.run('a');
    await expect(first).rejects.toThrow('first run failed');
    expect(await next).toBe(2);
  });
});
