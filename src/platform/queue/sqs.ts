import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { BatchRefusedError, sendInBatches } from '../retry.js';
import type { Queue, QueueDefinition, QueueMessage, QueuePort } from './queue.js';

/** Queue URLs by queue id, as configuration gives them (`ENROLLMENTS_QUEUE_URL`, …). */
export type QueueUrls = Readonly<
  Record<string, { readonly url?: string | undefined; readonly deadLetterUrl?: string | undefined }>
>;

/** SQS limit on messages per SendMessageBatch. */
const SQS_BATCH = 10;

/** The queue port on SQS (SendMessage / SendMessageBatch; the DLQ is a queue of its own). */
export class SqsQueuePort implements QueuePort {
  constructor(
    private readonly client: SQSClient,
    private readonly urls: QueueUrls,
  ) {}

  queue(definition: QueueDefinition): Queue {
    const urlOf = (kind: 'url' | 'deadLetterUrl') => {
      const url = this.urls[definition.id]?.[kind];
      if (!url) throw new Error(`no ${kind} configured for queue "${definition.id}"`);
      return url;
    };
    const client = this.client;
    return {
      async send(body, options = {}) {
        await client.send(
          new SendMessageCommand({
            QueueUrl: urlOf('url'),
            MessageBody: body,
            ...(options.delaySeconds ? { DelaySeconds: options.delaySeconds } : {}),
          }),
        );
      },
      async sendBatch(bodies) {
        // A batch call can fail per entry (throttling); those are sent again, a few times.
        const refused = await sendInBatches(
          bodies.map((body, i) => ({ Id: String(i), MessageBody: body })),
          {
            size: SQS_BATCH,
            attempts: 5,
            baseMs: 50,
            capMs: 1000,
            send: async (entries) => {
              const result = await client.send(
                new SendMessageBatchCommand({ QueueUrl: urlOf('url'), Entries: entries }),
              );
              const failed = new Set((result.Failed ?? []).map((f) => f.Id));
              return entries.filter((entry) => failed.has(entry.Id));
            },
          },
        );
        if (refused.length > 0) throw new BatchRefusedError('SQS', refused.length);
      },
      async deadLetter(message: QueueMessage, reason: string) {
        await client.send(
          new SendMessageCommand({
            QueueUrl: urlOf('deadLetterUrl'),
            MessageBody: message.body,
            MessageAttributes: {
              reason: { DataType: 'String', StringValue: reason.slice(0, 256) },
              sourceMessageId: { DataType: 'String', StringValue: message.id },
            },
          }),
        );
      },
    };
  }
}
