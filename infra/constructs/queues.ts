import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  type QueueDefinition,
  queueEnvVars,
  visibilityTimeoutSeconds,
} from '../../src/platform/queue/queue.js';

export interface RosterQueue {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
}

export interface QueuesProps {
  readonly definitions: readonly QueueDefinition[];
}

/**
 * One SQS queue and its dead-letter queue per queue definition (a task's queue trigger): redrive
 * after the definition's `maxReceiveCount`, a visibility timeout of six times the consumer's
 * timeout, SQS-managed encryption, SSL enforced by the queue policy, and the DLQ keeping messages
 * for the 14 days SQS allows (time to look at them and redrive).
 */
export class Queues extends Construct {
  readonly byDefinition: ReadonlyMap<QueueDefinition, RosterQueue>;

  constructor(scope: Construct, id: string, props: QueuesProps) {
    super(scope, id);
    const built = new Map<QueueDefinition, RosterQueue>();
    for (const definition of props.definitions) {
      if (definition.maxReceiveCount < 1) throw new Error(`${definition.id}: maxReceiveCount < 1`);
      const deadLetterQueue = new sqs.Queue(this, `${definition.id}-dlq`, {
        retentionPeriod: Duration.days(14),
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      const queue = new sqs.Queue(this, definition.id, {
        visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(definition)),
        deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: definition.maxReceiveCount },
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
      built.set(definition, { queue, deadLetterQueue });
    }
    this.byDefinition = built;
  }

  /** The queue built from `definition`. */
  of(definition: QueueDefinition): RosterQueue {
    const found = this.byDefinition.get(definition);
    if (!found) throw new Error(`no queue for definition "${definition.id}"`);
    return found;
  }

  /** Environment variables the app reads queue URLs from (`queueEnvVars`): all, or the given. */
  environment(definitions?: readonly QueueDefinition[]): Record<string, string> {
    return Object.fromEntries(
      [...this.byDefinition].flatMap(([definition, { queue, deadLetterQueue }]) => {
        if (definitions && !definitions.includes(definition)) return [];
        const names = queueEnvVars(definition);
        return [
          [names.url, queue.queueUrl],
          [names.deadLetterUrl, deadLetterQueue.queueUrl],
        ];
      }),
    );
  }
}
