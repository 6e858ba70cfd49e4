import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import type { QueueDefinition } from '../../src/platform/queue/queue.js';
import { SqsQueuePort } from '../../src/platform/queue/sqs.js';

const definition: QueueDefinition = {
  id: 'orders',
  maxReceiveCount: 5,
  consumerTimeoutSeconds: 10,
  batchSize: 10,
};
const urls = {
  orders: {
    url: 'https://sqs.test/000000000000/orders',
    deadLetterUrl: 'https://sqs.test/000000000000/orders-dlq',
  },
};

interface Sent {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/**
 * A real SQSClient whose calls are answered by a middleware at the front of its stack, before
 * endpoint resolution and signing: nothing leaves the process. `answer` plays SQS.
 */
function sqsClient(answer: (call: Sent) => unknown = () => ({})) {
  const sent: Sent[] = [];
  const client = new SQSClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const call = {
        command: context.commandName ?? '',
        input: (args as { input: Record<string, unknown> }).input,
      };
      sent.push(call);
      return { output: { $metadata: {}, ...(answer(call) as object) }, response: {} } as never;
    },
    { step: 'initialize', name: 'playSqs' },
  );
  return { client, sent };
}

describe('SqsQueuePort (the queue port on SQS)', () => {
  it('sends one message with SendMessage to the queue URL, with its delay', async () => {
    const { client, sent } = sqsClient();
    const queue = new SqsQueuePort(client, urls).queue(definition);

    await queue.send('{"a":1}', { delaySeconds: 30 });

    expect(sent).toEqual([
      {
        command: 'SendMessageCommand',
        input: { QueueUrl: urls.orders.url, MessageBody: '{"a":1}', DelaySeconds: 30 },
      },
    ]);
  });

  it('sends many in SendMessageBatch calls of at most 10', async () => {
    const { client, sent } = sqsClient();
    const queue = new SqsQueuePort(client, urls).queue(definition);

    await queue.sendBatch(Array.from({ length: 23 }, (_, i) => `m${i}`));

    expect(sent.map((call) => call.command)).toEqual(Array(3).fill('SendMessageBatchCommand'));
    const bodies = sent.flatMap((call) =>
      (call.input.Entries as { MessageBody: string }[]).map((entry) => entry.MessageBody),
    );
    expect(bodies).toEqual(Array.from({ length: 23 }, (_, i) => `m${i}`));
  });

  it('sends again the entries of a batch that SQS refused, and fails if it keeps refusing', async () => {
    let refusals = 2;
    const { client, sent } = sqsClient((call) => {
      const entries = call.input.Entries as { Id: string }[];
      if (refusals-- > 0) {
        return { Failed: [{ Id: entries[0]?.Id, Code: 'Throttled', SenderFault: false }] };
      }
      return {};
    });
    const queue = new SqsQueuePort(client, urls).queue(definition);

    await queue.sendBatch(['a', 'b', 'c']);

    expect(sent.map((call) => (call.input.Entries as unknown[]).length)).toEqual([3, 1, 1]);

    const stubborn = sqsClient((call) => ({
      Failed: (call.input.Entries as { Id: string }[]).map(({ Id }) => ({ Id, Code: 'X' })),
    }));
    await expect(
      new SqsQueuePort(stubborn.client, urls).queue(definition).sendBatch(['x']),
    ).rejects.toThrow(/SQS refused 1 entry/);
  });

  it('dead-letters a message to the DLQ URL with the reason and the source message id', async () => {
    const { client, sent } = sqsClient();
    const queue = new SqsQueuePort(client, urls).queue(definition);

    await queue.deadLetter({ id: 'm-1', body: 'garbage', receiveCount: 1 }, 'not decodable');

    expect(sent).toEqual([
      {
        command: 'SendMessageCommand',
        input: {
          QueueUrl: urls.orders.deadLetterUrl,
          MessageBody: 'garbage',
          MessageAttributes: {
            reason: { DataType: 'String', StringValue: 'not decodable' },
            sourceMessageId: { DataType: 'String', StringValue: 'm-1' },
          },
        },
      },
    ]);
  });

  it('fails a send, not its construction, when no URL is configured for the queue', async () => {
    const { client, sent } = sqsClient();
    const queue = new SqsQueuePort(client, {}).queue(definition);

    await expect(queue.send('x')).rejects.toThrow(/no url configured for queue "orders"/);
    expect(sent).toEqual([]);
  });
});
