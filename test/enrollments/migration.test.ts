import { randomUUID } from 'node:crypto';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'zod/v4/core';
import { enrollmentsKeys } from '../../src/modules/enrollments/enrollments.dynamo.js';
import {
  enrollmentsModule,
  enrollmentsTable,
} from '../../src/modules/enrollments/enrollments.module.js';
import { enrollmentMessage, maskCpf } from '../../src/modules/enrollments/enrollments.rules.js';
import type { DynamoClients } from '../../src/platform/dynamo/client.js';
import {
  allPages,
  checkLogsHaveNoCpf,
  createEnrollmentsApp,
  createGroup,
  type Enrollment,
  type EnrollmentsApp,
  enroll,
  getEnrollment,
  newCpf,
  servicesOf,
} from './fixtures.js';

checkLogsHaveNoCpf();

const backfill = enrollmentsModule.tasks?.find((task) => task.name === 'backfill-list-keys');

const runBackfill = (app: EnrollmentsApp) => {
  if (!backfill) throw new Error('the enrollments module has no backfill-list-keys task');
  return backfill.run(app.servicesOf(enrollmentsModule), { trigger: 'startup' });
};

const list = async (app: EnrollmentsApp, query = '') =>
  (await allPages<Enrollment>(app, `/enrollments${query}`)).flat().map((e) => e.id);

/** An enrollment record exactly as the previous release wrote it: no list keys. */
function previousRelease(
  status: 'PENDING' | 'PROCESSED' | 'REJECTED',
  ageGroupId: string,
  createdAt: string,
) {
  const id = randomUUID();
  const item: Record<string, unknown> = {
    ...enrollmentsKeys.enrollment(id),
    type: 'enrollment',
    id,
    name: `Old ${status}`,
    age: 30,
    cpfMasked: maskCpf(newCpf()),
    cpfKey: `k${id}`,
    status,
    ageGroupId,
    createdAt,
  };
  if (status === 'PENDING') {
    item.GSI2PK = enrollmentsKeys.pendingShard(id);
    item.GSI2SK = `${createdAt}#${id}`;
  } else {
    item.processedAt = new Date(Date.parse(createdAt) + 1000).toISOString();
    if (status === 'REJECTED') item.reason = `Age group ${ageGroupId} no longer exists`;
  }
  return item as { id: string } & Record<string, unknown>;
}

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

async function putOld(app: EnrollmentsApp, item: Record<string, unknown>) {
  await app.dynamo.doc.send(
    new PutCommand({ TableName: app.table(enrollmentsTable).name, Item: item }),
  );
}

async function raw(app: EnrollmentsApp, id: string) {
  const { Item } = await app.dynamo.doc.send(
    new GetCommand({
      TableName: app.table(enrollmentsTable).name,
      Key: enrollmentsKeys.enrollment(id),
      ConsistentRead: true,
    }),
  );
  return Item;
}

describe('the backfill-list-keys task (records of the previous release)', () => {
  let app: EnrollmentsApp;
  let group: string;
  let old: Record<'processed' | 'rejected' | 'pending', { id: string } & Record<string, unknown>>;
  let fresh: string;
  beforeAll(async () => {
    app = await createEnrollmentsApp({ start: false });
    group = (await createGroup(app, 0, 60)).id;
    old = {
      processed: previousRelease('PROCESSED', group, hoursAgo(3)),
      rejected: previousRelease('REJECTED', 'a-deleted-group', hoursAgo(2)),
      pending: previousRelease('PENDING', group, hoursAgo(1)),
    };
    for (const item of Object.values(old)) await putOld(app, item);
    fresh = (await enroll(app, { age: 20 })).enrollment_id;
  });

  it('runs at local start-up and on a schedule that can be turned off', () => {
    expect(backfill?.startup).toBe(true);
    const schema = enrollmentsModule.settings;
    const settings = (value?: string) =>
      schema && parse(schema, value ? { listBackfillSchedule: value } : {});
    expect(backfill?.schedule?.(settings() as never)).toBe('rate(1 hour)');
    expect(backfill?.schedule?.(settings('off') as never)).toBeUndefined();
  });

  it('lists the previous release’s records once it ran, in order and under their status', async () => {
    expect(await list(app)).toEqual([fresh]);

    expect(await runBackfill(app)).toEqual({ backfilled: 3 });

    expect(await list(app)).toEqual([fresh, old.pending.id, old.rejected.id, old.processed.id]);
    expect(await list(app, '?limit=1')).toEqual([
      fresh,
      old.pending.id,
      old.rejected.id,
      old.processed.id,
    ]);
    expect(await list(app, '?status=PENDING')).toEqual([fresh, old.pending.id]);
    expect(await list(app, '?status=PROCESSED')).toEqual([old.processed.id]);
    expect(await list(app, '?status=REJECTED')).toEqual([old.rejected.id]);
    expect(await list(app, `?ageGroupId=${group}`)).toEqual([
      fresh,
      old.pending.id,
      old.processed.id,
    ]);
    expect(await list(app, '?ageGroupId=a-deleted-group&status=REJECTED')).toEqual([
      old.rejected.id,
    ]);
    const [listed] = (await allPages<Enrollment>(app, '/enrollments?status=PROCESSED')).flat();
    expect(listed).toEqual(await getEnrollment(app, old.processed.id));
  });

  it('changes nothing when it runs again', async () => {
    const before = await Promise.all(Object.values(old).map(({ id }) => raw(app, id)));

    expect(await runBackfill(app)).toEqual({ backfilled: 0 });

    expect(await Promise.all(Object.values(old).map(({ id }) => raw(app, id)))).toEqual(before);
  });

  it('moves a backfilled PENDING record when this release processes it', async () => {
    await servicesOf(app).process({
      id: randomUUID(),
      body: enrollmentMessage(old.pending.id),
      receiveCount: 1,
    });

    expect(await list(app, '?status=PENDING')).toEqual([fresh]);
    expect(await list(app, '?status=PROCESSED')).toEqual([old.pending.id, old.processed.id]);
  });
});

describe('the backfill-list-keys task when a record changes under it', () => {
  it('keys a record for the status it has when written, not the one it read', async () => {
    let changedUnderIt: (() => Promise<void>) | undefined;
    // Between the task's read and its write, a processor of the previous release (still
    // running during the upgrade) finishes the record.
    const interleave = (clients: DynamoClients) => {
      clients.client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = (args as { input: { ConditionExpression?: string } }).input;
          if (
            context.commandName === 'UpdateItemCommand' &&
            input.ConditionExpression?.includes('attribute_not_exists(GSI3PK)') &&
            changedUnderIt
          ) {
            const change = changedUnderIt;
            changedUnderIt = undefined;
            await change();
          }
          return next(args);
        },
        { step: 'initialize', name: 'previousReleaseProcessor' },
      );
      return clients;
    };
    const app = await createEnrollmentsApp({ start: false, dynamo: interleave });
    const group = (await createGroup(app, 0, 60)).id;
    const item = previousRelease('PENDING', group, hoursAgo(1));
    await putOld(app, item);
    changedUnderIt = async () => {
      await app.dynamo.doc.send(
        new UpdateCommand({
          TableName: app.table(enrollmentsTable).name,
          Key: enrollmentsKeys.enrollment(item.id),
          UpdateExpression: 'REMOVE GSI2PK, GSI2SK SET #s = :s, processedAt = :now',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':s': 'PROCESSED', ':now': new Date().toISOString() },
        }),
      );
    };

    expect(await runBackfill(app)).toEqual({ backfilled: 1 });

    expect(changedUnderIt).toBeUndefined();
    expect(await list(app, '?status=PENDING')).toEqual([]);
    expect(await list(app, '?status=PROCESSED')).toEqual([item.id]);
    expect(await list(app, `?ageGroupId=${group}&status=PROCESSED`)).toEqual([item.id]);
  });
});
