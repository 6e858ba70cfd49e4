import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { enrollmentsKeys } from '../../src/modules/enrollments/enrollments.dynamo.js';
import { enrollmentsTable } from '../../src/modules/enrollments/enrollments.module.js';
import { enrollmentMessage } from '../../src/modules/enrollments/enrollments.rules.js';
import { createDynamoClients, type DynamoClients } from '../../src/platform/dynamo/client.js';
import { ensureTables } from '../../src/platform/dynamo/provision.js';
import { idempotencyTable, tableEnvVar } from '../../src/platform/dynamo/tables.js';
import { outboxTable } from '../../src/platform/outbox/outbox.js';

type Handler = (
  event: SQSEvent,
  context: Context,
) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

const context = {
  awsRequestId: 'lambda-request-1',
  functionName: 'roster-enrollments-process',
  getRemainingTimeInMillis: () => 19_000,
} as unknown as Context;

/** An SQS record as the Lambda event source delivers it. */
function record(body: string, receiveCount = 1): SQSRecord {
  return {
    messageId: `msg-${randomBytes(4).toString('hex')}`,
    receiptHandle: 'handle',
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDA',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:enrollments',
    awsRegion: 'us-east-1',
  };
}

describe('processor Lambda (SQS batches through Powertools batch processing)', () => {
  const saved = { ...process.env };
  const table = `lambda${randomBytes(4).toString('hex')}-enrollments`;
  let dynamo: DynamoClients;
  let handler: Handler;

  /**
   * A PENDING record written directly (as the API would have), with its group; `name` as long
   * as `fill` asks (`max`: the longest that fits in DynamoDB's 400 KB, so no attribute can be
   * added to it any more).
   */
  async function pendingEnrollment(
    ageGroupId: string,
    options: { group?: boolean; fill?: 'max' } = {},
  ): Promise<string> {
    const id = `0190a000-0000-7000-8000-${randomBytes(6).toString('hex')}`;
    if (options.group ?? true) {
      await dynamo.doc.send(
        new PutCommand({
          TableName: table,
          Item: { ...enrollmentsKeys.group(ageGroupId), id: ageGroupId, minAge: 0, maxAge: 150 },
        }),
      );
    }
    const put = (name: string) =>
      dynamo.doc.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...enrollmentsKeys.enrollment(id),
            type: 'enrollment',
            id,
            name,
            age: 30,
            cpfMasked: '***.456.789-**',
            status: 'PENDING',
            ageGroupId,
            createdAt: new Date().toISOString(),
          },
        }),
      );
    if (options.fill !== 'max') {
      await put('Lambda');
      return id;
    }
    for (let length = 400 * 1024 - 200; length > 400_000; length -= 16) {
      try {
        await put('n'.repeat(length));
        return id;
      } catch (error) {
        if ((error as Error).name !== 'ValidationException') throw error;
      }
    }
    throw new Error('could not fill an item to the limit');
  }

  const statusOf = async (id: string) => {
    const out = await dynamo.doc.send(
      new GetCommand({
        TableName: table,
        Key: enrollmentsKeys.enrollment(id),
        ConsistentRead: true,
      }),
    );
    return out.Item?.status;
  };

  beforeAll(async () => {
    const endpoint = inject('dynamodbEndpoint');
    dynamo = createDynamoClients({ region: 'us-east-1', endpoint });
    // The transitions commit their domain events into the platform's outbox table.
    await ensureTables(dynamo.client, [
      { definition: enrollmentsTable, name: table },
      { definition: outboxTable, name: `${table}-${outboxTable.id}` },
    ]);

    // The task module builds its container at import time from process.env, as on Lambda.
    process.env.DYNAMODB_ENDPOINT = endpoint;
    process.env.ENROLLMENTS_TABLE_NAME = table;
    process.env[tableEnvVar(outboxTable)] = `${table}-${outboxTable.id}`;
    process.env.IDEMPOTENCY_TABLE_NAME = `${table}-unused-${idempotencyTable.id}`;
    process.env.ROSTER_TASK = 'enrollments/process';
    process.env.LOG_LEVEL = 'silent';
    process.env.AWS_REGION = 'us-east-1';
    process.env.APP_SECRET = Buffer.alloc(32, 9).toString('base64url');
    ({ handler } = (await import('../../src/runtime/lambda/task.js')) as unknown as {
      handler: Handler;
    });
  });

  afterAll(() => {
    process.env = saved;
    dynamo.client.destroy();
  });

  it('processes a batch and reports only the message that failed', async () => {
    const fine = await pendingEnrollment('group-a');
    const gone = await pendingEnrollment('group-b', { group: false });
    // A record no transition can be written to (full to DynamoDB's 400 KB item limit): a failure
    // of this message alone, for SQS to deliver again, but not a poison message.
    const full = await pendingEnrollment('group-c', { fill: 'max' });
    const records = [fine, gone, full].map((id) => record(enrollmentMessage(id)));

    const result = await handler({ Records: records }, context);

    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: records[2]?.messageId }] });
    expect(await statusOf(fine)).toBe('PROCESSED');
    expect(await statusOf(gone)).toBe('REJECTED');
    expect(await statusOf(full)).toBe('PENDING');
  });

  it('answers an empty failure list when a delivery repeats (a second delivery changes nothing)', async () => {
    const id = await pendingEnrollment('group-d');
    const first = await handler({ Records: [record(enrollmentMessage(id))] }, context);
    const second = await handler({ Records: [record(enrollmentMessage(id), 2)] }, context);

    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    expect(await statusOf(id)).toBe('PROCESSED');
  });
});
