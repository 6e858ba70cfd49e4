import { describe, expect, it } from 'vitest';
import { PoisonMessageError, type QueueDefinition } from '../../src/platform/queue/queue.js';
import { LocalQueues } from '../../src/runtime/local/queue.js';

const definition: QueueDefinition = {
  id: 'test',
  maxReceiveCount: 3,
  consumerTimeoutSeconds: 10,
  batchSize: 10,
};

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('LocalQueues (SQS semantics, in process)', () => {
  it('hides a received message for the visibility timeout (6 × the consumer timeout), then delivers it again', async () => {
    const clock = manualClock();
    const queues = new LocalQueues({ now: clock.now });
    await queues.queue(definition).send('hello');

    const [first] = await queues.receive(definition, 10);
    expect(first).toMatchObject({ body: 'hello', receiveCount: 1 });
    expect(await queues.receive(definition, 10)).toEqual([]);
    clock.advance(59_999);
    expect(await queues.receive(definition, 10)).toEqual([]);
    clock.advance(1);
    const [second] = await queues.receive(definition, 10);

    expect(second).toMatchObject({ id: first?.id, body: 'hello', receiveCount: 2 });
    expect(second?.receipt).not.toBe(first?.receipt);
  });

  it('deletes a message only with its current receipt', async () => {
    const clock = manualClock();
    const queues = new LocalQueues({ now: clock.now, visibilityTimeoutSeconds: 1 });
    await queues.queue(definition).send('once');
    const [stale] = await queues.receive(definition, 1);
    clock.advance(1000);
    const [current] = await queues.receive(definition, 1);
    if (!stale || !current) throw new Error('nothing received');

    expect(queues.delete(definition, stale)).toBe(false);
    expect(queues.depth(definition)).toBe(1);
    expect(queues.delete(definition, current)).toBe(true);
    expect(queues.depth(definition)).toBe(0);
  });

  it('moves a message to the DLQ at the receive after maxReceiveCount receives', async () => {
    const clock = manualClock();
    const queues = new LocalQueues({ now: clock.now, visibilityTimeoutSeconds: 1 });
    await queues.queue(definition).send('poison');

    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      counts.push(...(await queues.receive(definition, 10)).map((m) => m.receiveCount));
      clock.advance(1000);
    }

    expect(counts).toEqual([1, 2, 3]);
    expect(queues.depth(definition)).toBe(0);
    expect(queues.deadLetters(definition)).toEqual([
      { id: expect.any(String), body: 'poison', receiveCount: 3, reason: 'max receives' },
    ]);
  });

  it('delivers a delayed message only after its delay, and at most batch-size at a time', async () => {
    const clock = manualClock();
    const queues = new LocalQueues({ now: clock.now });
    const queue = queues.queue(definition);
    await queue.send('later', { delaySeconds: 5 });
    await queue.sendBatch(Array.from({ length: 12 }, (_, i) => `m${i}`));

    const batch = await queues.receive(definition, 10);
    expect(batch.map((m) => m.body)).toEqual(Array.from({ length: 10 }, (_, i) => `m${i}`));
    expect((await queues.receive(definition, 10)).map((m) => m.body)).toEqual(['m10', 'm11']);
    clock.advance(5000);
    expect((await queues.receive(definition, 10)).map((m) => m.body)).toEqual(['later']);
  });

  it('wakes a waiting receive as soon as a message is sent (long polling)', async () => {
    const queues = new LocalQueues();
    const waiting = queues.receive(definition, 10, 5000);
    const sentAt = performance.now();
    setTimeout(() => void queues.queue(definition).send('ping'), 20);

    const received = await waiting;

    expect(received.map((m) => m.body)).toEqual(['ping']);
    expect(performance.now() - sentAt).toBeLessThan(1000);
  });

  it('consumes: deletes what succeeded, redelivers what failed, dead-letters poison at once', async () => {
    const queues = new LocalQueues({ visibilityTimeoutSeconds: 0.05 });
    const seen: string[] = [];
    let flaky = 2;
    const stop = queues.consume(
      definition,
      async (message) => {
        seen.push(`${message.body}#${message.receiveCount}`);
        if (message.body === 'flaky' && flaky-- > 0) throw new Error('not yet');
        if (message.body === 'poison') throw new PoisonMessageError('cannot be decoded');
      },
      { waitMs: 20, pollers: 2 },
    );
    await queues.queue(definition).sendBatch(['ok', 'flaky', 'poison']);

    await expect.poll(() => queues.depth(definition), { timeout: 5000 }).toBe(0);
    await stop();

    expect(seen.sort()).toEqual(['flaky#1', 'flaky#2', 'flaky#3', 'ok#1', 'poison#1']);
    expect(queues.deadLetters(definition)).toEqual([
      { id: expect.any(String), body: 'poison', receiveCount: 1, reason: 'cannot be decoded' },
    ]);
  });

  it('stops consuming promptly, waiting for the batch in progress', async () => {
    const queues = new LocalQueues();
    let finished = 0;
    const stop = queues.consume(
      definition,
      async () => {
        await new Promise((done) => setTimeout(done, 100));
        finished++;
      },
      { waitMs: 60_000 },
    );
    await queues.queue(definition).send('slow');
    await new Promise((done) => setTimeout(done, 20));

    const stopping = performance.now();
    await stop();

    expect(finished).toBe(1);
    expect(performance.now() - stopping).toBeLessThan(1000);
  });
});
