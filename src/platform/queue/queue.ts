/**
 * The queue port: what a module sends work through, and what a queue-triggered task receives.
 * SQS on AWS (sqs.ts beside this file), an in-process stand-in with SQS's semantics locally
 * (src/runtime/local/queue.ts). The semantics a consumer may rely on, on both sides:
 *
 * - at-least-once delivery: a message can arrive twice, or after a later one, so handlers must be
 *   idempotent;
 * - a received message is hidden for the visibility timeout; if its handler fails it becomes
 *   visible again afterwards and is received again, its receive count one higher;
 * - a message received `maxReceiveCount` times without being deleted moves to the dead-letter
 *   queue instead of being delivered again;
 * - failures are per message (a batch reports which of its messages failed).
 */
import { envName } from '../env-names.js';

/** A queue a module declares on a task's `queue` trigger; the runtime builds it and its DLQ. */
export interface QueueDefinition {
  /**
   * Stable logical name, unique across modules: CDK construct id, and the environment variables
   * carrying its URLs (`queueEnvVars`).
   */
  readonly id: string;
  /** Receives before a message moves to the dead-letter queue (SQS redrive maxReceiveCount). */
  readonly maxReceiveCount: number;
  /**
   * How long the consumer may take over one batch (the task Lambda's timeout). The visibility
   * timeout is six times this (AWS's advice for Lambda consumers), so a message is never visible
   * again while a slow invocation still holds it.
   */
  readonly consumerTimeoutSeconds: number;
  /** Messages per delivery (SQS event source batch size, 1–10). */
  readonly batchSize: number;
  /**
   * How many consumer invocations may run at once on AWS (the event source's maximum concurrency,
   * 2–1000), so a flood of messages cannot take the account's Lambda concurrency from the API or
   * outpace the tables. @default 5
   */
  readonly maxConcurrency?: number;
  /**
   * Timers deliver to it (platform/timers): on AWS the stack lets EventBridge Scheduler send to
   * it, and lets the functions of the module that consumes it set timers on it.
   */
  readonly timerTarget?: boolean;
}

/** Consumer invocations at once when a queue definition does not say. */
export const DEFAULT_MAX_CONCURRENCY = 5;

/** Visibility timeout of a queue: six times its consumer's timeout. */
export const visibilityTimeoutSeconds = (queue: QueueDefinition): number =>
  6 * queue.consumerTimeoutSeconds;

/** `enrollments` → `ENROLLMENTS_QUEUE_URL`, `ENROLLMENTS_DLQ_URL`: where the stack passes them. */
export function queueEnvVars(queue: Pick<QueueDefinition, 'id'>): {
  url: string;
  deadLetterUrl: string;
} {
  return { url: envName(queue.id, 'QUEUE_URL'), deadLetterUrl: envName(queue.id, 'DLQ_URL') };
}

/** One delivery of a message, as a queue-triggered task receives it. */
export interface QueueMessage {
  readonly id: string;
  readonly body: string;
  /** How many times it has been received, this time included (1 on the first delivery). */
  readonly receiveCount: number;
}

export interface SendOptions {
  /** Keep the message invisible this long after sending (SQS DelaySeconds, 0–900). */
  readonly delaySeconds?: number;
}

/** Sending side of one queue. */
export interface Queue {
  send(body: string, options?: SendOptions): Promise<void>;
  /** Several messages, in as few calls as the queue allows (SQS: 10 per call). */
  sendBatch(bodies: readonly string[]): Promise<void>;
  /**
   * Puts a message its consumer can never process (undecodable, or naming nothing) on the
   * dead-letter queue right away, instead of letting it fail `maxReceiveCount` times first.
   */
  deadLetter(message: QueueMessage, reason: string): Promise<void>;
}

/** The runtime's queues (a member of `Ports`). */
export interface QueuePort {
  queue(definition: QueueDefinition): Queue;
}

/**
 * The queue for `definition` from the runtime's port, or — where no queue port exists (the CDK
 * app builds services offline) — one whose every call fails, loudly.
 */
export function queueOf(port: QueuePort | undefined, definition: QueueDefinition): Queue {
  if (port) return port.queue(definition);
  const absent = () => Promise.reject(new Error('no queue port in this runtime'));
  return { send: absent, sendBatch: absent, deadLetter: absent };
}

/**
 * Thrown by a queue handler for a message that no retry can fix: the runtime moves it to the
 * dead-letter queue at once and counts it as handled.
 */
export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError';
}

export type ConsumeOutcome = 'done' | 'dead-lettered';

/**
 * One message through a queue handler, the same way on both runtimes: success deletes it (the
 * caller's job), a PoisonMessageError dead-letters it and counts as success, anything else is
 * rethrown so that the runtime reports this message (alone) as failed.
 */
export async function consumeMessage(
  queue: Queue,
  message: QueueMessage,
  handle: (message: QueueMessage) => Promise<unknown>,
): Promise<ConsumeOutcome> {
  try {
    await handle(message);
    return 'done';
  } catch (error) {
    if (!(error instanceof PoisonMessageError)) throw error;
    await queue.deadLetter(message, error.message);
    return 'dead-lettered';
  }
}
