import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { createDynamoClients } from '../../src/platform/dynamo/client.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../src/runtime/local/dynamodb-local.js';
import { directLoad, type Sample, summarize } from './measure.js';
import type { Row } from './report.js';

/*
 * What an acknowledged write costs on each DynamoDB Local the project runs: in memory (tests, the
 * rest of the bench), persisted as `npm start` runs it (our launcher: a transaction answers once
 * its COMMIT ran), and persisted with the jar's stock launcher (answers before the COMMIT: what
 * the fix costs). Raw SDK calls, no app: two-item TransactWriteItems (every create in Roster is
 * one) and single PutItem, 8 at a time, in interleaved rounds so a busy moment hits all alike.
 */

export interface DurabilitySettings {
  readonly rounds: number;
  readonly roundSeconds: number;
  readonly concurrency: number;
}

const TABLE = 'durability-bench';

interface Target {
  readonly name: string;
  readonly database: DynamoDbLocal;
  readonly client: DynamoDBClient;
}

async function target(
  name: string,
  options: Parameters<typeof startDynamoDbLocal>[0],
): Promise<Target> {
  const database = await startDynamoDbLocal(options);
  // Built like the app's (and the rest of the bench's direct runs).
  const { client } = createDynamoClients({ region: 'us-east-1', endpoint: database.endpoint });
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  return { name, database, client };
}

const item = (id: string) => ({ pk: { S: id }, payload: { S: 'x'.repeat(200) } });

export async function durabilityBench(settings: DurabilitySettings): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'roster-bench-durability-'));
  const targets: Target[] = [];
  try {
    targets.push(await target('in memory', {}));
    targets.push(
      await target('persisted, stock launcher', { dbPath: join(dir, 'stock'), launcher: 'stock' }),
    );
    targets.push(await target('persisted, durable launcher', { dbPath: join(dir, 'durable') }));
    const samples = new Map<string, Sample[]>();
    const add = (name: string, sample: Sample) =>
      samples.set(name, [...(samples.get(name) ?? []), sample]);
    let n = 0;
    for (let round = 0; round < settings.rounds; round++) {
      for (const { name, client } of targets) {
        const load = (call: (i: number) => Promise<unknown>) =>
          directLoad({
            concurrency: settings.concurrency,
            durationMs: settings.roundSeconds * 1000,
            hardStopMs: settings.roundSeconds * 1000 + 10_000,
            maxCalls: 1_000_000,
            call: async (i) => {
              await call(i);
              return 'ok';
            },
          });
        add(
          `txn ${name}`,
          await load((i) =>
            client.send(
              new TransactWriteItemsCommand({
                TransactItems: [
                  { Put: { TableName: TABLE, Item: item(`t${round}-${i}-${++n}-a`) } },
                  { Put: { TableName: TABLE, Item: item(`t${round}-${i}-${n}-b`) } },
                ],
              }),
            ),
          ),
        );
        add(
          `put ${name}`,
          await load((i) =>
            client.send(
              new PutItemCommand({ TableName: TABLE, Item: item(`p${round}-${i}-${++n}`) }),
            ),
          ),
        );
      }
    }
    return [...samples].map(([name, list]) => ({ name, m: summarize(list) }));
  } finally {
    for (const { client, database } of targets) {
      client.destroy();
      await database.stop();
    }
    await rm(dir, { recursive: true, force: true });
  }
}
