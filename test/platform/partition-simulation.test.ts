import {
  type AttributeValue,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  ThrottlingException,
  TransactionCanceledException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  PARTITION_SIMULATION,
  type PartitionSimulationOptions,
  simulatePartitions,
} from '../../src/platform/dynamo/partition-simulation.js';
import { S, type TableDefinition } from '../../src/platform/dynamo/tables.js';
import { transactWrite } from '../../src/platform/dynamo/transactions.js';

/**
 * The partition simulation checked against DynamoDB's documented figures: 1,000 WCU and 3,000
 * RCU per second per partition key, a write unit per KB, a read unit per 4 KB (half for an
 * eventually consistent read), two units per item in a transaction, and the errors DynamoDB
 * raises (docs/decisions/partition-simulation.md lists the pages). No DynamoDB here: a
 * middleware below the simulation plays it, in memory, so a test counts what "reached" it.
 */

const events = {
  id: 'events',
  partitionKey: S('PK'),
  sortKey: S('SK'),
  globalIndexes: [{ indexName: 'gsi3', partitionKey: S('GSI3PK'), sortKey: S('GSI3SK') }],
} as const satisfies TableDefinition;
const TABLE = 'roster-events';

type Options = Partial<Omit<PartitionSimulationOptions, 'tables' | 'clock'>> & {
  /** The SDK's attempts per call: 1 (no SDK retry) unless a test is about that retry. */
  readonly maxAttempts?: number;
};

interface Call {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/**
 * A real DynamoDB client with the simulation installed, answered by a middleware installed just
 * below it (after the SDK's retry, before signing): nothing leaves the process. Its clock is
 * frozen until `advance`; `hold(token)` keeps the transaction sent with that ClientRequestToken
 * "in flight at DynamoDB" until the returned function is called.
 */
function dynamo(options: Options = {}) {
  let now = 0;
  const { maxAttempts = 1, ...simulationOptions } = options;
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts,
  });
  const simulation = simulatePartitions(client, {
    enabled: true,
    scale: 1,
    tables: [{ name: TABLE, definition: events }],
    clock: () => now,
    ...simulationOptions,
  });
  const items = new Map<string, Record<string, AttributeValue>>();
  const gates = new Map<
    string,
    { readonly arrived: () => void; readonly released: Promise<void> }
  >();
  const reached: Call[] = [];
  const keyOf = (item: Record<string, AttributeValue>) => JSON.stringify([item.PK, item.SK]);

  const play = async ({ command, input }: Call): Promise<Record<string, unknown>> => {
    switch (command) {
      case 'PutItemCommand': {
        const item = input.Item as Record<string, AttributeValue>;
        items.set(keyOf(item), item);
        return {};
      }
      case 'GetItemCommand':
        return { Item: items.get(keyOf(input.Key as Record<string, AttributeValue>)) };
      case 'UpdateItemCommand': {
        const key = input.Key as Record<string, AttributeValue>;
        return input.ReturnValues === 'ALL_NEW' ? { Attributes: items.get(keyOf(key)) ?? key } : {};
      }
      case 'DeleteItemCommand':
        items.delete(keyOf(input.Key as Record<string, AttributeValue>));
        return {};
      case 'TransactWriteItemsCommand': {
        const gate = gates.get(input.ClientRequestToken as string);
        gate?.arrived();
        await gate?.released;
        for (const entry of input.TransactItems as {
          Put?: { Item: Record<string, AttributeValue> };
        }[]) {
          if (entry.Put) items.set(keyOf(entry.Put.Item), entry.Put.Item);
        }
        return {};
      }
      case 'TransactGetItemsCommand': {
        const gets = input.TransactItems as { Get: { Key: Record<string, AttributeValue> } }[];
        return { Responses: gets.map(({ Get }) => ({ Item: items.get(keyOf(Get.Key)) })) };
      }
      case 'QueryCommand': {
        const attribute = input.IndexName === 'gsi3' ? 'GSI3PK' : 'PK';
        const value = (input.ExpressionAttributeValues as Record<string, AttributeValue>)[':pk'];
        const found = [...items.values()].filter((item) => item[attribute]?.S === value?.S);
        return { Items: found, Count: found.length, ScannedCount: found.length };
      }
      default:
        return {};
    }
  };
  client.middlewareStack.addRelativeTo(
    (_next: unknown, context: { commandName?: string }) => async (args: { input: object }) => {
      const call = {
        command: context.commandName ?? '',
        input: args.input as Record<string, unknown>,
      };
      reached.push(call);
      return { output: { $metadata: {}, ...(await play(call)) }, response: {} };
    },
    { relation: 'after', toMiddleware: PARTITION_SIMULATION, name: 'playDynamoDb' },
  );
  const doc = DynamoDBDocumentClient.from(client);
  return {
    doc,
    simulation,
    reached,
    advance: (ms: number) => {
      now += ms;
    },
    /** DynamoDB holds the transaction sent with this token until `release()`. */
    hold: (token: string) => {
      let release = () => {};
      let arrived = () => {};
      const inFlight = new Promise<void>((done) => {
        arrived = done;
      });
      const released = new Promise<void>((done) => {
        release = done;
      });
      gates.set(token, { arrived, released });
      return { release, inFlight };
    },
    /** An item already in the database, written without the simulation seeing it. */
    seed: (item: Record<string, AttributeValue>) => {
      items.set(keyOf(item), item);
    },
  };
}

/** An item of exactly `bytes` by DynamoDB's documented sizing (names + UTF-8 string values). */
function itemOfSize(bytes: number, pk: string, sk: string, extra: Record<string, string> = {}) {
  const fixed =
    `PK${pk}SK${sk}pad`.length +
    Object.entries(extra).reduce((sum, [name, value]) => sum + name.length + value.length, 0);
  return { PK: pk, SK: sk, ...extra, pad: 'x'.repeat(bytes - fixed) };
}

const KB = 1024;
const put = (pk: string, sk: string, bytes = KB, extra: Record<string, string> = {}) =>
  new PutCommand({ TableName: TABLE, Item: itemOfSize(bytes, pk, sk, extra) });

/** Sends `count` requests one after another; the number that passed before the first refusal. */
async function passing(count: number, send: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < count; i++) {
    try {
      await send(i);
    } catch {
      return i;
    }
  }
  return count;
}

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as Error & Record<string, unknown>,
  );

const sk = (i: number) => `REG#${String(i).padStart(5, '0')}`;

describe('the partition simulation, at full scale (1)', () => {
  it('takes 1,000 one-KB writes a second on one partition key and throttles the 1,001st as an on-demand table does', async () => {
    const { doc, reached } = dynamo();

    expect(await passing(1_000, (i) => doc.send(put('EVENT#1', sk(i))))).toBe(1_000);
    const error = await refusal(doc.send(put('EVENT#1', sk(1_000))));

    expect(error).toBeInstanceOf(ThrottlingException);
    expect(error?.$metadata).toMatchObject({ httpStatusCode: 400 });
    expect(error?.message).toMatch(
      /Throughput exceeds the current capacity of your table or index/,
    );
    expect(error?.throttlingReasons).toEqual([
      {
        reason: 'TableWriteKeyRangeThroughputExceeded',
        resource: `arn:aws:dynamodb:ddblocal:000000000000:table/${TABLE}`,
      },
    ]);
    // A throttled call never reaches the database.
    expect(reached).toHaveLength(1_000);
  });

  it('takes 500 transactional one-KB writes a second (2 WCU each) and cancels the 501st as ThrottlingError', async () => {
    const { doc, reached } = dynamo();
    const transaction = (i: number) =>
      new TransactWriteCommand({ TransactItems: [{ Put: put('EVENT#1', sk(i)).input }] });

    expect(await passing(500, (i) => doc.send(transaction(i)))).toBe(500);
    const error = await refusal(doc.send(transaction(500)));

    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error?.CancellationReasons).toEqual([
      {
        Code: 'ThrottlingError',
        Message: expect.stringMatching(/Throughput exceeds the current capacity/),
      },
    ]);
    expect(reached).toHaveLength(500);
  });

  it('takes 3,000 strongly consistent reads of a 4-KB item a second, and 6,000 eventually consistent ones', async () => {
    for (const [consistent, expected] of [
      [true, 3_000],
      [false, 6_000],
    ] as const) {
      const { doc, reached } = dynamo();
      await doc.send(put('EVENT#1', 'EVENT', 4 * KB));
      const read = () =>
        doc.send(
          new GetCommand({
            TableName: TABLE,
            Key: { PK: 'EVENT#1', SK: 'EVENT' },
            ConsistentRead: consistent,
          }),
        );

      expect(await passing(expected, read)).toBe(expected);
      const error = await refusal(read());

      expect(error).toBeInstanceOf(ThrottlingException);
      expect(error?.throttlingReasons).toEqual([
        expect.objectContaining({ reason: 'TableReadKeyRangeThroughputExceeded' }),
      ]);
      expect(reached).toHaveLength(1 + expected);
    }
  });

  it('charges a 2.5-KB item 3 WCU: writes round up to the next KB', async () => {
    const { doc, simulation } = dynamo();

    await doc.send(put('EVENT#1', 'EVENT', 2.5 * KB));

    expect(simulation.stats().partitions).toEqual([
      expect.objectContaining({ table: TABLE, key: 'EVENT#1', writeUnits: 3, readUnits: 0 }),
    ]);
  });
});

describe('the partition simulation, scaled down (1/20)', () => {
  const scale = 1 / 20;

  it('gives each partition key its own ceiling, refilled over the second', async () => {
    const { doc, advance } = dynamo({ scale });

    expect(await passing(51, (i) => doc.send(put('EVENT#1', sk(i))))).toBe(50);
    expect(await passing(51, (i) => doc.send(put('EVENT#2', sk(i))))).toBe(50);
    // Reads of a key whose writes are exhausted are not: DynamoDB throttles them apart.
    await doc.send(new GetCommand({ TableName: TABLE, Key: { PK: 'EVENT#1', SK: sk(0) } }));
    advance(500);
    expect(await passing(26, (i) => doc.send(put('EVENT#1', sk(100 + i))))).toBe(25);
    advance(1_000);
    expect(await passing(51, (i) => doc.send(put('EVENT#1', sk(200 + i))))).toBe(50);
  });

  it('takes the documented figures divided by 20: 50 one-KB writes, 25 transactional ones', async () => {
    const writes = dynamo({ scale });
    expect(await passing(51, (i) => writes.doc.send(put('EVENT#1', sk(i))))).toBe(50);

    const transactions = dynamo({ scale });
    const transaction = (i: number) =>
      new TransactWriteCommand({ TransactItems: [{ Put: put('EVENT#1', sk(i)).input }] });
    expect(await passing(26, (i) => transactions.doc.send(transaction(i)))).toBe(25);
  });

  it('takes 150 strongly consistent and 300 eventually consistent 4-KB reads', async () => {
    for (const [consistent, expected] of [
      [true, 150],
      [false, 300],
    ] as const) {
      const { doc, advance } = dynamo({ scale });
      await doc.send(put('EVENT#1', 'EVENT', 4 * KB));
      advance(1_000);
      const read = () =>
        doc.send(
          new GetCommand({
            TableName: TABLE,
            Key: { PK: 'EVENT#1', SK: 'EVENT' },
            ConsistentRead: consistent,
          }),
        );
      expect(await passing(expected + 1, read)).toBe(expected);
    }
  });

  it('takes 17 writes of a 2.5-KB item (51 WCU: the 17th admitted with 2 of its 3 left, in debt) and throttles the 18th', async () => {
    const { doc, advance } = dynamo({ scale });
    expect(await passing(18, (i) => doc.send(put('EVENT#1', sk(i), 2.5 * KB)))).toBe(17);
    // The debt is paid first: 20 ms refills 1 WCU, which only brings the bucket back to 0.
    advance(20);
    expect(await passing(1, (i) => doc.send(put('EVENT#1', sk(100 + i))))).toBe(0);
    advance(20);
    expect(await passing(1, (i) => doc.send(put('EVENT#1', sk(200 + i))))).toBe(1);
  });

  it('does not starve a large request behind a stream of small ones on its key, and holds the ceiling', async () => {
    // A 4-WCU transaction (two 1-KB items) and a 1-WCU update take turns on one key, 20 ms (1 WCU
    // of refill) apart, the transaction first: admitted only with all 4 units at once, it never
    // would be; DynamoDB admits a request while its key has capacity and charges it in full.
    const { doc, advance } = dynamo({ scale });
    await passing(50, (i) => doc.send(put('EVENT#1', sk(i))));
    let transactions = 0;
    let updates = 0;
    for (let step = 0; step < 100; step++) {
      advance(20);
      const transaction = new TransactWriteCommand({
        TransactItems: [
          { Put: put('EVENT#1', sk(1_000 + step)).input },
          { Put: put('EVENT#1', sk(2_000 + step)).input },
        ],
      });
      transactions += await passing(1, () => doc.send(transaction));
      updates += await passing(1, () => doc.send(put('EVENT#1', sk(3_000 + step))));
    }
    expect(transactions).toBeGreaterThan(10);
    // Two seconds at 50 WCU/s, and at most one request's debt beyond it.
    expect(4 * transactions + updates).toBeLessThanOrEqual(100 + 4);
    expect(4 * transactions + updates).toBeGreaterThanOrEqual(100 - 4);
  });

  it('says what its figures mean at full scale', () => {
    const { simulation } = dynamo({ scale });

    expect(simulation.ceilings).toEqual({ writeUnitsPerSecond: 50, readUnitsPerSecond: 150 });
    expect(simulation.fullScale(12.5)).toBe(250);
    const text = simulation.describe().join('\n');
    expect(text).toMatch(/1\/20/);
    expect(text).toMatch(/50 WCU\/s/);
    expect(text).toMatch(/1,000 WCU\/s/);
    expect(text).toMatch(/150 RCU\/s/);
    expect(text).toMatch(/3,000 RCU\/s/);
  });
});

describe('burst capacity', () => {
  it('is off by default: however long a key idles, it takes one second of its ceiling and no more', async () => {
    const { doc, advance } = dynamo({ scale: 1 / 1_000 });
    advance(3_600_000);

    expect(await passing(2, (i) => doc.send(put('EVENT#1', sk(i))))).toBe(1);
  });

  it('banks unused capacity, at most burstSeconds of it, when turned on', async () => {
    // 1 WCU/s, so a second's ceiling is one one-KB write.
    const { doc, advance } = dynamo({ scale: 1 / 1_000, burstSeconds: 300 });
    let n = 0;
    const write = () => doc.send(put('EVENT#1', sk(n++)));

    expect(await passing(2, write)).toBe(1);
    advance(10_000);
    expect(await passing(11, write)).toBe(10);
    advance(3_600_000);
    expect(await passing(302, write)).toBe(301);
  });
});

describe('concurrent transactions', () => {
  const registration = (token: string, userId: string): TransactWriteCommandInput => ({
    ClientRequestToken: token,
    TransactItems: [
      {
        Update: {
          TableName: TABLE,
          Key: { PK: 'EVENT#1', SK: 'EVENT' },
          UpdateExpression: 'ADD registeredCount :one',
          ExpressionAttributeValues: { ':one': 1 },
        },
      },
      { Put: put('EVENT#1', `REG#${userId}`).input },
    ],
  });

  it('cancels the later of two overlapping transactions on one item with TransactionConflict', async () => {
    const { doc, hold, reached, simulation } = dynamo();
    const { release, inFlight } = hold('a');
    const first = doc.send(new TransactWriteCommand(registration('a', 'u1')));
    await inFlight;

    const error = await refusal(
      doc.send(
        new TransactWriteCommand({
          ...registration('b', 'u2'),
          // The counter item second here: the reasons follow the request's order.
          TransactItems: [...(registration('b', 'u2').TransactItems ?? [])].reverse(),
        }),
      ),
    );

    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect(error?.message).toBe(
      'Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]',
    );
    expect(error?.CancellationReasons).toEqual([
      { Code: 'None' },
      { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
    ]);
    expect(error?.$metadata).toMatchObject({ httpStatusCode: 400 });
    expect(reached.map((call) => call.input.ClientRequestToken)).toEqual(['a']);

    release();
    await first;
    // Once the first has committed, the same transaction passes.
    await doc.send(new TransactWriteCommand(registration('c', 'u2')));
    expect(simulation.stats().requests).toMatchObject({ conflicted: 1 });
  });

  it('lets overlapping transactions on different items, and ones that do not overlap in time, both pass', async () => {
    const { doc, hold } = dynamo();
    const { release, inFlight } = hold('a');
    const first = doc.send(new TransactWriteCommand(registration('a', 'u1')));
    await inFlight;

    await doc.send(
      new TransactWriteCommand({ TransactItems: [{ Put: put('EVENT#2', 'REG#u9').input }] }),
    );
    release();
    await first;
    await doc.send(new TransactWriteCommand(registration('b', 'u2')));
  });

  it('refuses a single write to an item of a transaction in flight (TransactionConflictException), not a read', async () => {
    const { doc, hold } = dynamo();
    const { release, inFlight } = hold('a');
    const first = doc.send(new TransactWriteCommand(registration('a', 'u1')));
    await inFlight;

    const error = await refusal(
      doc.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { PK: 'EVENT#1', SK: 'EVENT' },
          UpdateExpression: 'SET capacity = :c',
          ExpressionAttributeValues: { ':c': 10 },
        }),
      ),
    );
    expect(error).toBeInstanceOf(TransactionConflictException);
    expect(error?.$metadata).toMatchObject({ httpStatusCode: 400 });
    // DynamoDB documents that a GetItem and a transaction in flight on its item both succeed.
    await doc.send(new GetCommand({ TableName: TABLE, Key: { PK: 'EVENT#1', SK: 'EVENT' } }));
    const read = await refusal(
      doc.send(
        new TransactGetCommand({
          TransactItems: [{ Get: { TableName: TABLE, Key: { PK: 'EVENT#1', SK: 'EVENT' } } }],
        }),
      ),
    );
    expect(read?.CancellationReasons).toEqual([
      { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' },
    ]);

    release();
    await first;
  });

  it('holds an item transactionHoldMs / scale after its transaction began, when told to', async () => {
    // 10 ms at full scale is 200 ms at 1/20.
    const { doc, advance } = dynamo({ scale: 1 / 20, transactionHoldMs: 10 });
    await doc.send(new TransactWriteCommand(registration('a', 'u1')));

    advance(150);
    const error = await refusal(doc.send(new TransactWriteCommand(registration('b', 'u2'))));
    expect(error?.CancellationReasons).toContainEqual(
      expect.objectContaining({ Code: 'TransactionConflict' }),
    );
    advance(50);
    await doc.send(new TransactWriteCommand(registration('c', 'u2')));
  });

  it("is classified by transactWrite as DynamoDB's own conflicts and throttles are: retried, then passed", async () => {
    const { doc, hold, simulation } = dynamo({ scale: 1 / 20 });
    const { release, inFlight } = hold('a');
    const first = doc.send(new TransactWriteCommand(registration('a', 'u1')));
    await inFlight;

    const second = transactWrite(doc, registration('b', 'u2'));
    // The first commits once the second has been refused for the conflict at least once.
    for (let waited = 0; simulation.stats().requests.conflicted === 0 && waited < 2_000; waited++) {
      await new Promise((done) => setTimeout(done, 1));
    }
    expect(simulation.stats().requests.conflicted).toBeGreaterThan(0);
    release();
    await first;

    expect(await second).toEqual({ ok: true });
  });
});

describe('what it charges', () => {
  it('charges a write to an item with an index key to the index partition too, and throttles there', async () => {
    const { doc, simulation } = dynamo({ scale: 1 / 20 });
    // Fifty registrations of fifty events, all under one ticket-index partition key.
    const ticket = (i: number) =>
      doc.send(put(`EVENT#${i}`, 'REG#u1', KB, { GSI3PK: 'TICKETS#e1', GSI3SK: `${i}` }));

    expect(await passing(51, ticket)).toBe(50);
    const error = await refusal(ticket(51));
    expect(error?.throttlingReasons).toEqual([
      {
        reason: 'IndexWriteKeyRangeThroughputExceeded',
        resource: `arn:aws:dynamodb:ddblocal:000000000000:table/${TABLE}/index/gsi3`,
      },
    ]);
    expect(simulation.stats().partitions).toContainEqual(
      expect.objectContaining({ table: TABLE, index: 'gsi3', key: 'TICKETS#e1', writeUnits: 50 }),
    );
  });

  it('charges a query to its partition (an index query as eventually consistent), by the size it returned', async () => {
    const { doc, simulation } = dynamo();
    for (let i = 0; i < 3; i++) {
      await doc.send(put('EVENT#1', sk(i), 3 * KB, { GSI3PK: 'TICKETS#e1', GSI3SK: `${i}` }));
    }

    await doc.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'PK' },
        ExpressionAttributeValues: { ':pk': 'EVENT#1' },
        ConsistentRead: true,
      }),
    );
    await doc.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: 'gsi3',
        KeyConditionExpression: 'GSI3PK = :pk',
        ExpressionAttributeValues: { ':pk': 'TICKETS#e1' },
      }),
    );

    const usage = simulation.stats().partitions;
    // 9 KB returned: 12 KB, 3 strongly consistent read units; on the index, half of that.
    expect(usage).toContainEqual(expect.objectContaining({ key: 'EVENT#1', readUnits: 3 }));
    expect(usage).toContainEqual(
      expect.objectContaining({ index: 'gsi3', key: 'TICKETS#e1', readUnits: 1.5 }),
    );
  });

  it('estimates updates, deletes and condition checks from the last size it saw of the item', async () => {
    const { doc, simulation } = dynamo();
    const key = { PK: 'EVENT#1', SK: 'EVENT' };
    await doc.send(put('EVENT#1', 'EVENT', 2.5 * KB)); // 3
    await doc.send(
      new UpdateCommand({
        TableName: TABLE,
        Key: key,
        UpdateExpression: 'ADD registeredCount :one',
        ExpressionAttributeValues: { ':one': 1 },
      }),
    ); // 3: the item as last seen
    await doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            ConditionCheck: {
              TableName: TABLE,
              Key: key,
              ConditionExpression: 'attribute_exists(PK)',
            },
          },
        ],
      }),
    ); // 2 × 3
    await doc.send(new DeleteCommand({ TableName: TABLE, Key: key })); // 3
    await doc.send(new DeleteCommand({ TableName: TABLE, Key: key })); // 1: unknown now

    expect(simulation.stats().partitions).toEqual([
      expect.objectContaining({ key: 'EVENT#1', writeUnits: 3 + 3 + 6 + 3 + 1 }),
    ]);
  });

  it('charges an update of an item it had not seen by the item DynamoDB returned (ALL_NEW)', async () => {
    const { doc, simulation, seed } = dynamo();
    seed({ PK: { S: 'EVENT#1' }, SK: { S: 'EVENT' }, pad: { S: 'x'.repeat(2.5 * KB - 19) } });
    const update = (pk: string) =>
      doc.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { PK: pk, SK: 'EVENT' },
          UpdateExpression: 'SET n = :n',
          ExpressionAttributeValues: { ':n': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );

    await update('EVENT#1'); // estimated 1 (an unknown item), 2.5 KB came back: 3
    await update('EVENT#2'); // unknown, and small: 1

    const usage = simulation.stats().partitions;
    expect(usage).toContainEqual(expect.objectContaining({ key: 'EVENT#1', writeUnits: 3 }));
    expect(usage).toContainEqual(expect.objectContaining({ key: 'EVENT#2', writeUnits: 1 }));
  });

  it('throttles a whole batch when one of its partition keys is out of capacity', async () => {
    const { doc, reached } = dynamo({ scale: 1 / 1_000 });
    await doc.send(put('EVENT#1', sk(0)));

    const error = await refusal(
      doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [TABLE]: [
              { PutRequest: { Item: itemOfSize(KB, 'EVENT#2', sk(0)) } },
              { PutRequest: { Item: itemOfSize(KB, 'EVENT#1', sk(1)) } },
            ],
          },
        }),
      ),
    );

    expect(error).toBeInstanceOf(ThrottlingException);
    expect(reached).toHaveLength(1);
  });

  it('raises ProvisionedThroughputExceeded instead, in provisioned mode', async () => {
    const { doc } = dynamo({ scale: 1 / 1_000, mode: 'provisioned' });
    await doc.send(put('EVENT#1', sk(0)));

    const single = await refusal(doc.send(put('EVENT#1', sk(1))));
    const transaction = await refusal(
      doc.send(new TransactWriteCommand({ TransactItems: [{ Put: put('EVENT#1', sk(2)).input }] })),
    );

    expect(single).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(single?.ThrottlingReasons).toEqual([
      expect.objectContaining({ reason: 'TableWriteKeyRangeThroughputExceeded' }),
    ]);
    expect(transaction?.CancellationReasons).toEqual([
      expect.objectContaining({ Code: 'ProvisionedThroughputExceeded' }),
    ]);
  });

  it('leaves scans alone (counted as not modelled)', async () => {
    const { doc, simulation } = dynamo({ scale: 1 / 1_000 });

    for (let i = 0; i < 3; i++) await doc.send(new ScanCommand({ TableName: TABLE }));

    expect(simulation.stats().requests.unmodelled).toBe(3);
  });

  it('refuses to guess the keys of a table it was not told about', async () => {
    const { doc } = dynamo();

    const error = await refusal(
      doc.send(new PutCommand({ TableName: 'other', Item: { id: 'x' } })),
    );

    expect(error?.message).toMatch(/table "other"/);
  });
});

describe('the simulation as a whole', () => {
  it('lets the SDK retry its throttling as it retries DynamoDB’s (it sits below the retry)', async () => {
    const { doc } = dynamo({ scale: 1 / 1_000, maxAttempts: 2 });
    await doc.send(put('EVENT#1', sk(0)));

    const error = await refusal(doc.send(put('EVENT#1', sk(1))));

    expect(error).toBeInstanceOf(ThrottlingException);
    expect(error?.$metadata).toMatchObject({ attempts: 2 });
  });

  it('does nothing when not enabled', async () => {
    const { doc, simulation } = dynamo({ enabled: false, scale: 1 / 1_000 });

    expect(await passing(10, (i) => doc.send(put('EVENT#1', sk(i))))).toBe(10);
    expect(simulation.stats().partitions).toEqual([]);
    expect(simulation.describe().join('\n')).toMatch(/off/);
  });

  it('can be switched off and on again (a bench seeds its data unthrottled)', async () => {
    const { doc, simulation } = dynamo({ scale: 1 / 1_000 });

    simulation.setEnabled(false);
    expect(await passing(5, (i) => doc.send(put('USERS', sk(i))))).toBe(5);
    expect(simulation.enabled).toBe(false);
    simulation.setEnabled(true);
    expect(simulation.enabled).toBe(true);
    expect(await passing(2, (i) => doc.send(put('EVENT#1', sk(i))))).toBe(1);
    expect(simulation.stats().partitions.map((usage) => usage.key)).toEqual(['EVENT#1']);
  });

  it('keeps stats that add up: units per key, throttles per key, requests', async () => {
    const { doc, simulation } = dynamo({ scale: 1 / 100 }); // 10 WCU/s, 30 RCU/s
    await passing(11, (i) => doc.send(put('EVENT#1', sk(i)))); // 10 pass, 1 throttled
    await doc.send(put('EVENT#2', 'EVENT', 2.5 * KB)); // 3
    await passing(61, () =>
      doc.send(new GetCommand({ TableName: TABLE, Key: { PK: 'EVENT#2', SK: 'EVENT' } })),
    ); // 60 eventually consistent reads of ≤ 4 KB pass (30 RCU), 1 throttled

    const { partitions, totals, requests } = simulation.stats();

    expect(partitions).toEqual([
      {
        table: TABLE,
        key: 'EVENT#1',
        writeUnits: 10,
        readUnits: 0,
        writeThrottles: 1,
        readThrottles: 0,
        conflicts: 0,
      },
      {
        table: TABLE,
        key: 'EVENT#2',
        writeUnits: 3,
        readUnits: 30,
        writeThrottles: 0,
        readThrottles: 1,
        conflicts: 0,
      },
    ]);
    expect(totals).toEqual({ writeUnits: 13, readUnits: 30, throttles: 2, conflicts: 0 });
    expect(requests).toEqual({
      admitted: 10 + 1 + 60,
      throttled: 2,
      conflicted: 0,
      unmodelled: 0,
    });
  });
});
