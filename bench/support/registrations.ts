import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { v7 as uuidv7 } from 'uuid';
import { eventsKeys } from '../../src/modules/events/events.dynamo.js';
import { openStatuses } from '../../src/modules/events/events.model.js';
import type { EventsService } from '../../src/modules/events/events.service.js';
import type { UsersService } from '../../src/modules/events/events.users.service.js';
import { transactWrite } from '../../src/platform/dynamo/transactions.js';
import { directLoad } from './measure.js';

export interface Seeded {
  readonly eventId: string;
  readonly userIds: readonly string[];
}

/** A fresh event (capacity, waitlist) and `users` fresh users, created by the service. */
export async function seedEvent(
  services: { events: EventsService; users: UsersService },
  name: string,
  capacity: number,
  users: number,
): Promise<Seeded> {
  const { eventId } = await services.events.createEvent({
    eventId: `${name}-${uuidv7()}`,
    title: `Benchmark ${name}`,
    description: 'Written by npm run bench',
    date: '2030-01-01',
    location: 'localhost',
    capacity,
    organizer: 'bench',
    status: 'active',
    hasWaitlist: true,
  });
  const userIds = Array.from({ length: users }, (_, i) => `${eventId}-u${i}`);
  const created = await directLoad({
    concurrency: 32,
    durationMs: 60_000,
    hardStopMs: 60_000,
    maxCalls: users,
    call: async (i) => {
      await services.users.createUser({ userId: userIds[i] as string, name: `User ${i}` });
      return undefined;
    },
  });
  if (created.outcomes.ok !== users) {
    throw new Error(`seeding ${name}: ${JSON.stringify(created.outcomes)}`);
  }
  return { eventId, userIds };
}

export interface Committed {
  readonly registeredCount: number;
  readonly waitlistCount: number;
  readonly confirmedRows: number;
  readonly waitlistedRows: number;
}

/** What the table holds after a burst: the event's counters and its rows, read consistently. */
export async function readCommitted(
  doc: DynamoDBDocumentClient,
  table: string,
  eventId: string,
): Promise<Committed> {
  const event = await doc.send(
    new GetCommand({ TableName: table, Key: eventsKeys.event(eventId), ConsistentRead: true }),
  );
  const count = async (prefix: string) => {
    let total = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(
        new QueryCommand({
          TableName: table,
          IndexName: eventsKeys.registrationsIndex,
          KeyConditionExpression: 'PK = :pk AND begins_with(LSI1SK, :prefix)',
          ExpressionAttributeValues: { ':pk': eventsKeys.event(eventId).PK, ':prefix': prefix },
          Select: 'COUNT',
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      total += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return total;
  };
  return {
    registeredCount: Number(event.Item?.registeredCount),
    waitlistCount: Number(event.Item?.waitlistCount),
    confirmedRows: await count('C#'),
    waitlistedRows: await count('W#'),
  };
}

let rawTickets = 0;

/**
 * The floor a registration can't go below: the three items of the registration transaction
 * (event counters under their condition, the registration by key, the user's existence) with the
 * module's own keys, and nothing else — no read, no waitlist ticket, no position. It tries a seat
 * first; a failed event condition means the other path applies, so it switches.
 */
export async function rawRegister(
  doc: DynamoDBDocumentClient,
  table: string,
  eventId: string,
  userId: string,
): Promise<'confirmed' | 'waitlisted'> {
  const registrationId = uuidv7();
  const now = new Date().toISOString();
  let seatFree = true;
  for (let attempt = 0; attempt < 25; attempt++) {
    const status = seatFree ? 'confirmed' : 'waitlisted';
    const outcome = await transactWrite(doc, {
      TransactItems: [
        {
          Update: {
            TableName: table,
            Key: eventsKeys.event(eventId),
            ...(seatFree
              ? {
                  UpdateExpression:
                    'SET registeredCount = registeredCount + :one, updatedAt = :now',
                  ConditionExpression:
                    'attribute_exists(PK) AND #status IN (:s1, :s2, :s3) AND registeredCount < #capacity AND waitlistCount = :zero',
                }
              : {
                  UpdateExpression: 'SET waitlistCount = waitlistCount + :one, updatedAt = :now',
                  ConditionExpression:
                    'attribute_exists(PK) AND #status IN (:s1, :s2, :s3) AND hasWaitlist = :true AND (registeredCount >= #capacity OR waitlistCount > :zero)',
                }),
            ExpressionAttributeNames: { '#status': 'status', '#capacity': 'capacity' },
            ExpressionAttributeValues: {
              ':one': 1,
              ':zero': 0,
              ':now': now,
              ':s1': openStatuses[0],
              ':s2': openStatuses[1],
              ':s3': openStatuses[2],
              ...(seatFree ? {} : { ':true': true }),
            },
          },
        },
        {
          Put: {
            TableName: table,
            Item: {
              ...eventsKeys.registration(eventId, userId),
              registrationId,
              eventId,
              userId,
              status,
              registeredAt: now,
              LSI1SK: seatFree
                ? eventsKeys.confirmedSort(registrationId)
                : eventsKeys.waitlistSort(++rawTickets),
            },
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        {
          ConditionCheck: {
            TableName: table,
            Key: eventsKeys.user(userId),
            ConditionExpression: 'attribute_exists(PK)',
          },
        },
      ],
    });
    if (outcome.ok) return status;
    const [eventFailed] = outcome.reasons.map((code) => code === 'ConditionalCheckFailed');
    if (!eventFailed) throw new Error(`registration refused: ${outcome.reasons.join(', ')}`);
    seatFree = !seatFree;
  }
  throw new Error('registration kept failing its event condition');
}
