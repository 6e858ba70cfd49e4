import { randomBytes } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { eventsTable } from '../../src/modules/events/events.module.js';
import { createDynamoClients } from '../../src/platform/dynamo/client.js';
import { createCursorCodec } from '../../src/platform/dynamo/cursor.js';
import { isDependencyUnavailable } from '../../src/platform/dynamo/errors.js';
import { ensureTables } from '../../src/platform/dynamo/provision.js';
import { DynamoTable } from '../../src/platform/dynamo/table.js';
import { BatchRefusedError, sendInBatches } from '../../src/platform/retry.js';
import { processHalfOfBatches } from '../support/faults.js';

const quick = { baseMs: 1, capMs: 2 };

describe('sendInBatches', () => {
  it('sends chunks of at most `size`, in order', async () => {
    const calls: number[][] = [];
    const refused = await sendInBatches([1, 2, 3, 4, 5, 6, 7], {
      ...quick,
      size: 3,
      attempts: 1,
      send: async (chunk) => {
        calls.push(chunk);
        return [];
      },
    });
    expect(calls).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
    expect(refused).toEqual([]);
  });

  it('sends again only what a call refused, until nothing is left', async () => {
    const calls: number[][] = [];
    const refused = await sendInBatches([1, 2, 3, 4], {
      ...quick,
      size: 4,
      attempts: 5,
      send: async (chunk) => {
        calls.push(chunk);
        return chunk.slice(1); // takes one entry per call
      },
    });
    expect(calls).toEqual([[1, 2, 3, 4], [2, 3, 4], [3, 4], [4]]);
    expect(refused).toEqual([]);
  });

  it('gives up on a chunk after `attempts` calls and returns what it still refused', async () => {
    let calls = 0;
    const refused = await sendInBatches(['a', 'b', 'c'], {
      ...quick,
      size: 2,
      attempts: 3,
      send: async (chunk) => {
        calls++;
        return chunk.filter((entry) => entry !== 'a');
      },
    });
    expect(calls).toBe(6);
    expect(refused).toEqual(['b', 'c']);
  });
});

describe('DynamoTable batches when DynamoDB leaves entries unprocessed', () => {
  async function scratchTable(halve: number) {
    const endpoint = inject('dynamodbEndpoint');
    const name = `t${randomBytes(6).toString('hex')}-events`;
    const dynamo = createDynamoClients({ region: 'us-east-1', endpoint });
    await ensureTables(dynamo.client, [{ definition: eventsTable, name }]);
    const table = new DynamoTable(name, dynamo.doc, createCursorCodec(Buffer.alloc(32, 1)));
    const keys = Array.from({ length: 30 }, (_, i) => ({ PK: `EVENT#e-${i}`, SK: 'EVENT' }));
    for (const key of keys) await table.putIfAbsent({ ...key, n: Number(key.PK.slice(8)) });
    const { halved } = processHalfOfBatches(dynamo, halve);
    return { table, keys, halved };
  }

  it('reads every key, sending the unprocessed ones again', async () => {
    const { table, keys, halved } = await scratchTable(2);

    const items = await table.batchGet(keys);

    expect(halved()).toBe(2);
    expect(items.map((item) => item.n).sort((a, b) => a - b)).toEqual(keys.map((_, i) => i));
  });

  it('deletes every key, sending the unprocessed ones again', async () => {
    const { table, keys, halved } = await scratchTable(3);

    await table.batchDelete(keys);

    expect(halved()).toBe(3);
    expect(await table.batchGet(keys)).toEqual([]);
  });

  it('ends with BatchRefusedError (a 503, not a 500) when DynamoDB keeps leaving some out', async () => {
    const { table, keys } = await scratchTable(Number.POSITIVE_INFINITY);

    const failure = await table.batchGet(keys.slice(0, 3)).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(BatchRefusedError);
    expect(isDependencyUnavailable(failure)).toBe(true);
  });
});
