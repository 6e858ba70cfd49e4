import { randomUUID } from 'node:crypto';
import type { Logger } from '../../platform/logger.js';
import {
  consumeMessage,
  type Queue,
  type QueueDefinition,
  type QueueMessage,
  type QueuePort,
  visibilityTimeoutSeconds,
} from '../../platform/queue/queue.js';

/**
 * The local stand-in for SQS: in-process queues with the semantics the code relies on (see
 * src/platform/queue/queue.ts) — at-least-once delivery, a visibility timeout per receive, a
 * receive count, a move to the dead-letter queue at the receive after `maxReceiveCount`, per-message
 * failure in a batch, delay on send. Messages live in memory: a process that dies loses what sat
 * in its queues, as a consumer must expect of a wake-up signal (the record it points at is the
 * truth; a module's reconciler sends again what was lost).
 */

interface StoredMessage {
  readonly id: string;
  readonly body: string;
  receiveCount: number;
  /** Epoch ms from which it can be received. */
  visibleAt: number;
  /** The receipt of its latest receive; deleting needs the current one. */
  receipt: string | undefined;
}

export interface DeadLetter {
  readonly id: string;
  readonly body: string;
  readonly receiveCount: number;
  /** `max receives` (redrive) or the consumer's reason (poison message). */
  readonly reason: string;
}

export interface ReceivedMessage extends QueueMessage {
  readonly receipt: string;
}

export interface LocalQueuesOptions {
  /** Replaces every queue's visibility timeout (tests use a fraction of a second). */
  readonly visibilityTimeoutSeconds?: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

export interface ConsumerOptions {
  /** Batches handled at the same time (Lambda's concurrency, locally). @default 4 */
  readonly pollers?: number;
  /** How long a receive waits for a message (long polling). @default 1000 */
  readonly waitMs?: number;
}

class LocalQueue {
  readonly messages: StoredMessage[] = [];
  readonly dead: DeadLetter[] = [];
  /** Receivers waiting for a message (long polling). */
  private waiters = new Set<() => void>();

  constructor(
    readonly definition: QueueDefinition,
    private readonly visibilityMs: number,
    private readonly now: () => number,
    private readonly logger: Logger | undefined,
  ) {}

  add(body: string, delaySeconds = 0): void {
    this.messages.push({
      id: randomUUID(),
      body,
      receiveCount: 0,
      visibleAt: this.now() + delaySeconds * 1000,
      receipt: undefined,
    });
    this.wake();
  }

  deadLetter(message: QueueMessage, reason: string): void {
    const index = this.messages.findIndex((m) => m.id === message.id);
    if (index >= 0) this.messages.splice(index, 1);
    this.dead.push({
      id: message.id,
      body: message.body,
      receiveCount: message.receiveCount,
      reason,
    });
    this.logger?.warn('message dead-lettered', {
      queue: this.definition.id,
      messageId: message.id,
      receiveCount: message.receiveCount,
      reason,
    });
  }

  /** Up to `max` visible messages, hidden for the visibility timeout; waits up to `waitMs`. */
  async receive(max: number, waitMs: number, stopped: () => boolean): Promise<ReceivedMessage[]> {
    const deadline = this.now() + waitMs;
    for (;;) {
      const received = this.take(max);
      if (received.length > 0 || stopped() || this.now() >= deadline) return received;
      const nextVisible = Math.min(
        ...this.messages.map((m) => m.visibleAt).filter((at) => at > this.now()),
      );
      const wait = Math.max(1, Math.min(deadline, nextVisible) - this.now());
      await new Promise<void>((done) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          done();
        };
        const timer = setTimeout(wake, wait);
        this.waiters.add(wake);
      });
    }
  }

  /** Deletes a received message, if `receipt` is still its current receipt. */
  delete(message: ReceivedMessage): boolean {
    const index = this.messages.findIndex(
      (m) => m.id === message.id && m.receipt === message.receipt,
    );
    if (index < 0) return false;
    this.messages.splice(index, 1);
    return true;
  }

  /** Messages not yet deleted nor dead-lettered (visible, delayed or in flight). */
  get depth(): number {
    return this.messages.length;
  }

  wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private take(max: number): ReceivedMessage[] {
    const now = this.now();
    const received: ReceivedMessage[] = [];
    for (const message of [...this.messages]) {
      if (received.length >= max) break;
      if (message.visibleAt > now) continue;
      // SQS's redrive: a message already received maxReceiveCount times moves to the DLQ
      // instead of being delivered again.
      if (message.receiveCount >= this.definition.maxReceiveCount) {
        this.deadLetter(message, 'max receives');
        continue;
      }
      message.receiveCount++;
      message.visibleAt = now + this.visibilityMs;
      message.receipt = randomUUID();
      received.push({
        id: message.id,
        body: message.body,
        receiveCount: message.receiveCount,
        receipt: message.receipt,
      });
    }
    return received;
  }
}

export class LocalQueues implements QueuePort {
  private readonly queues = new Map<string, LocalQueue>();
  private readonly now: () => number;

  constructor(private readonly options: LocalQueuesOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  queue(definition: QueueDefinition): Queue {
    const queue = this.of(definition);
    return {
      send: async (body, options = {}) => queue.add(body, options.delaySeconds),
      sendBatch: async (bodies) => {
        for (const body of bodies) queue.add(body);
      },
      deadLetter: async (message, reason) => queue.deadLetter(message, reason),
    };
  }

  /** Receives up to `max` messages (waiting up to `waitMs` for one). */
  receive(definition: QueueDefinition, max: number, waitMs = 0): Promise<ReceivedMessage[]> {
    return this.of(definition).receive(max, waitMs, () => false);
  }

  delete(definition: QueueDefinition, message: ReceivedMessage): boolean {
    return this.of(definition).delete(message);
  }

  /** Messages on the queue, visible or not (the ApproximateNumberOfMessages of both kinds). */
  depth(definition: QueueDefinition): number {
    return this.of(definition).depth;
  }

  /** What the dead-letter queue holds. */
  deadLetters(definition: QueueDefinition): readonly DeadLetter[] {
    return this.of(definition).dead;
  }

  /**
   * Runs `handle` on every message, as a Lambda with an SQS event source would: `pollers` loops
   * each receive a batch, handle its messages concurrently, delete those that succeeded and leave
   * the failed ones to come back after the visibility timeout. Returns a stop function that waits
   * for the batches in progress.
   */
  consume(
    definition: QueueDefinition,
    handle: (message: QueueMessage) => Promise<unknown>,
    options: ConsumerOptions = {},
  ): () => Promise<void> {
    const queue = this.of(definition);
    const sender = this.queue(definition);
    const logger = this.options.logger;
    let stopped = false;
    const loop = async () => {
      while (!stopped) {
        const batch = await queue.receive(
          definition.batchSize,
          options.waitMs ?? 1000,
          () => stopped,
        );
        await Promise.all(
          batch.map(async (message) => {
            try {
              await consumeMessage(sender, message, handle);
              queue.delete(message);
            } catch (error) {
              logger?.warn('message failed; it will be received again', {
                queue: definition.id,
                messageId: message.id,
                receiveCount: message.receiveCount,
                error,
              });
            }
          }),
        );
      }
    };
    const loops = Array.from({ length: options.pollers ?? 4 }, loop);
    return async () => {
      stopped = true;
      queue.wake();
      await Promise.allSettled(loops);
    };
  }

  private of(definition: QueueDefinition): LocalQueue {
    let queue = this.queues.get(definition.id);
    if (!queue) {
      const seconds = this.options.visibilityTimeoutSeconds ?? visibilityTimeoutSeconds(definition);
      queue = new LocalQueue(definition, seconds * 1000, this.now, this.options.logger);
      this.queues.set(definition.id, queue);
    }
    return queue;
  }
}
