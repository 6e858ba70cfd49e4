import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  type NativeAttributeValue,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  type QueryCommandOutput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  decodeCursor,
  encodeCursor,
  invalidCursor,
  type Key,
} from '../../platform/dynamo/pagination.js';
import {
  TransactionContentionError,
  type TransactOutcome,
  transactWrite,
} from '../../platform/dynamo/transactions.js';
import type { Page, PageRequest } from '../../platform/page.js';
import { EventsErrors } from './events.errors.js';
import type {
  EventChanges,
  EventRepository,
  NewRegistration,
  UnregisterResult,
} from './events.repository.js';
import {
  type Event,
  type EventStatus,
  openStatuses,
  type Registration,
  type RegistrationStatus,
  type User,
  type UserRegistration,
} from './events.schemas.js';

/*
 * Key design (see src/platform/dynamo/tables.ts):
 *   event         PK=EVENT#<eventId>  SK=EVENT        GSI1 by status, GSI2PK=EVENTS
 *   user          PK=USER#<userId>    SK=USER         GSI2PK=USERS
 *   registration  PK=EVENT#<eventId>  SK=REG#<userId> GSI2PK=USER#<userId>#REGS
 *                 LSI1SK=C#<registrationId> (confirmed) | W#<registrationId> (waitlisted)
 * The event item holds registeredCount and waitlistCount; every transaction that adds, removes
 * or promotes a registration moves those counters in the same TransactWriteItems, under
 * conditions on the event item, so the counters always equal the rows and capacity holds.
 */

const eventKey = (eventId: string) => ({ PK: `EVENT#${eventId}`, SK: 'EVENT' });
const userKey = (userId: string) => ({ PK: `USER#${userId}`, SK: 'USER' });
const registrationKey = (eventId: string, userId: string) => ({
  PK: `EVENT#${eventId}`,
  SK: `REG#${userId}`,
});
const confirmedSortKey = (registrationId: string) => `C#${registrationId}`;
const waitlistSortKey = (registrationId: string) => `W#${registrationId}`;

/** DynamoDB allows 100 items per transaction: the event update plus up to 99 promotions. */
const MAX_PROMOTIONS_PER_TRANSACTION = 99;
/** Re-reads after a failed condition (the data changed under us). Each one makes progress. */
const MAX_STATE_RETRIES = 25;

type Item = Record<string, NativeAttributeValue>;

export interface DynamoEventRepositoryOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
  /** Attempts for TransactionConflict before answering 503. */
  readonly maxConflictAttempts?: number;
}

export class DynamoEventRepository implements EventRepository {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly maxConflictAttempts: number;

  constructor(options: DynamoEventRepositoryOptions) {
    this.doc = options.doc;
    this.table = options.tableName;
    this.maxConflictAttempts = options.maxConflictAttempts ?? 8;
  }

  // ---- events ------------------------------------------------------------------------------

  createEvent(event: Event): Promise<void> {
    return this.putIfAbsent(eventItem(event), () => EventsErrors.eventExists(event.eventId));
  }

  async getEvent(eventId: string): Promise<Event | undefined> {
    const item = await this.getItem(eventKey(eventId));
    return item ? toEvent(item) : undefined;
  }

  listEvents(
    filter: { status?: EventStatus | undefined },
    page: PageRequest,
  ): Promise<Page<Event>> {
    const query: QueryCommandInput = filter.status
      ? {
          TableName: this.table,
          IndexName: 'gsi1',
          KeyConditionExpression: 'GSI1PK = :pk',
          ExpressionAttributeValues: { ':pk': `STATUS#${filter.status}` },
        }
      : {
          TableName: this.table,
          IndexName: 'gsi2',
          KeyConditionExpression: 'GSI2PK = :pk',
          ExpressionAttributeValues: { ':pk': 'EVENTS' },
        };
    return this.queryPage(`events:${filter.status ?? '*'}`, query, page, toEvent);
  }

  async updateEvent(eventId: string, changes: EventChanges, now: string): Promise<Event> {
    for (let attempt = 0; attempt < MAX_STATE_RETRIES; attempt++) {
      const current = await this.getEvent(eventId);
      if (!current) throw EventsErrors.eventNotFound(eventId);
      const capacity = changes.capacity ?? current.capacity;
      if (capacity < current.registeredCount) {
        throw EventsErrors.capacityBelowRegistered(eventId, capacity, current.registeredCount);
      }
      const next: Event = { ...current, ...definedOnly(changes), updatedAt: now };
      const heads = await this.waitlistHeads(eventId, promotable(next));
      next.registeredCount += heads.length;
      next.waitlistCount -= heads.length;

      const names: Record<string, string> = {};
      const values: Record<string, NativeAttributeValue> = { ':now': now };
      const sets: string[] = ['updatedAt = :now'];
      for (const [field, value] of Object.entries(definedOnly(changes))) {
        names[`#${field}`] = field;
        values[`:${field}`] = value;
        sets.push(`#${field} = :${field}`);
      }
      if (changes.status && changes.status !== current.status) {
        sets.push('GSI1PK = :gsi1pk');
        values[':gsi1pk'] = `STATUS#${changes.status}`;
      }
      // Capacity and promotions are decided on the counters we read: the condition makes the
      // write fail (and this loop re-read) if any registration changed them in between.
      const guardsCounters = changes.capacity !== undefined || heads.length > 0;
      let condition = 'attribute_exists(PK)';
      if (guardsCounters) {
        condition += ' AND registeredCount = :rc AND waitlistCount = :wc AND #capacity = :cap';
        names['#capacity'] = 'capacity';
        Object.assign(values, {
          ':rc': current.registeredCount,
          ':wc': current.waitlistCount,
          ':cap': current.capacity,
        });
        if (heads.length > 0) {
          sets.push('registeredCount = :nrc', 'waitlistCount = :nwc');
          Object.assign(values, { ':nrc': next.registeredCount, ':nwc': next.waitlistCount });
        }
      }
      const outcome = await this.transact([
        {
          Update: {
            TableName: this.table,
            Key: eventKey(eventId),
            UpdateExpression: `SET ${sets.join(', ')}`,
            ConditionExpression: condition,
            ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: values,
          },
        },
        ...heads.map((head) => this.promoteItem(head, now)),
      ]);
      if (outcome.ok) {
        // The conditions held, so `next` is what was committed; only a further promotion batch
        // (more than one transaction's worth) changes the event again.
        if (promotable(next) === 0) return next;
        await this.fillFreeSeats(eventId, now);
        return (await this.getEvent(eventId)) ?? next;
      }
    }
    throw EventsErrors.busy();
  }

  async deleteEvent(eventId: string): Promise<number> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: eventKey(eventId),
          ConditionExpression: 'attribute_exists(PK)',
        }),
      );
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') {
        throw EventsErrors.eventNotFound(eventId);
      }
      throw error;
    }
    // The event is gone first, so no new registration can commit (each one conditions on the
    // event item); then its registrations go, page by page.
    let deleted = 0;
    for await (const items of this.queryPages({
      TableName: this.table,
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :reg)',
      ExpressionAttributeValues: { ':pk': `EVENT#${eventId}`, ':reg': 'REG#' },
      ProjectionExpression: 'PK, SK',
      ConsistentRead: true,
    })) {
      const keys = items.map((item) => ({ PK: item.PK, SK: item.SK }));
      for (let i = 0; i < keys.length; i += 25) {
        await this.batchDelete(keys.slice(i, i + 25));
      }
      deleted += keys.length;
    }
    return deleted;
  }

  // ---- users -------------------------------------------------------------------------------

  createUser(user: User): Promise<void> {
    return this.putIfAbsent(
      {
        ...userKey(user.userId),
        type: 'user',
        ...user,
        GSI2PK: 'USERS',
        GSI2SK: `${user.createdAt}#${user.userId}`,
      },
      () => EventsErrors.userExists(user.userId),
    );
  }

  async getUser(userId: string): Promise<User | undefined> {
    const item = await this.getItem(userKey(userId));
    return item ? toUser(item) : undefined;
  }

  listUsers(page: PageRequest): Promise<Page<User>> {
    return this.queryPage(
      'users',
      {
        TableName: this.table,
        IndexName: 'gsi2',
        KeyConditionExpression: 'GSI2PK = :pk',
        ExpressionAttributeValues: { ':pk': 'USERS' },
      },
      page,
      toUser,
    );
  }

  // ---- registrations -----------------------------------------------------------------------

  async register(registration: NewRegistration): Promise<Registration> {
    const { eventId, userId } = registration;
    for (let attempt = 0; attempt < MAX_STATE_RETRIES; attempt++) {
      const event = await this.getEvent(eventId);
      if (!event) throw EventsErrors.eventNotFound(eventId);
      if (!openStatuses.includes(event.status))
        throw EventsErrors.eventClosed(eventId, event.status);
      if (promotable(event) > 0) {
        // A seat is free while people wait (a crash between promotion batches): fill it first,
        // or this newcomer would jump the queue.
        await this.fillFreeSeats(eventId, registration.registeredAt);
        continue;
      }
      const seatFree = event.registeredCount < event.capacity;
      if (!seatFree && !event.hasWaitlist) {
        await this.explainRefusal(eventId, userId);
        throw EventsErrors.eventFull(eventId);
      }
      const status: RegistrationStatus = seatFree ? 'confirmed' : 'waitlisted';
      const eventUpdate = seatFree
        ? {
            UpdateExpression: 'SET registeredCount = registeredCount + :one, updatedAt = :now',
            ConditionExpression:
              'attribute_exists(PK) AND #status IN (:s1, :s2, :s3) AND registeredCount < #capacity AND waitlistCount = :zero',
          }
        : {
            UpdateExpression: 'SET waitlistCount = waitlistCount + :one, updatedAt = :now',
            ConditionExpression:
              'attribute_exists(PK) AND #status IN (:s1, :s2, :s3) AND hasWaitlist = :true AND (registeredCount >= #capacity OR waitlistCount > :zero)',
          };
      const item = registrationItem({ ...registration, status });
      const outcome = await this.transact([
        {
          Update: {
            TableName: this.table,
            Key: eventKey(eventId),
            ...eventUpdate,
            ExpressionAttributeNames: { '#status': 'status', '#capacity': 'capacity' },
            ExpressionAttributeValues: {
              ':one': 1,
              ':zero': 0,
              ':now': registration.registeredAt,
              ':s1': openStatuses[0],
              ':s2': openStatuses[1],
              ':s3': openStatuses[2],
              ...(seatFree ? {} : { ':true': true }),
            },
          },
        },
        {
          Put: {
            TableName: this.table,
            Item: item,
            ConditionExpression: 'attribute_not_exists(PK)',
          },
        },
        {
          ConditionCheck: {
            TableName: this.table,
            Key: userKey(userId),
            ConditionExpression: 'attribute_exists(PK)',
          },
        },
      ]);
      if (outcome.ok) {
        const result = toRegistration(item);
        if (status === 'waitlisted') {
          result.waitlistPosition = await this.waitlistPosition(
            eventId,
            registration.registrationId,
          );
        }
        return result;
      }
      const [eventFailed, registrationFailed, userFailed] = outcome.reasons.map(
        (code) => code === 'ConditionalCheckFailed',
      );
      if (userFailed) throw EventsErrors.userNotFound(userId);
      if (registrationFailed) throw EventsErrors.alreadyRegistered(eventId, userId);
      if (!eventFailed && outcome.reasons.length > 0) throw EventsErrors.busy();
      // The event changed between our read and our write (it filled up, a seat freed, its
      // status changed or it was deleted): read it again and decide again.
    }
    throw EventsErrors.busy();
  }

  async unregister(eventId: string, userId: string, now: string): Promise<UnregisterResult> {
    for (let attempt = 0; attempt < MAX_STATE_RETRIES; attempt++) {
      const item = await this.getItem(registrationKey(eventId, userId));
      if (!item) throw EventsErrors.registrationNotFound(eventId, userId);
      const removed = toRegistration(item);
      const deleteRegistration = {
        Delete: {
          TableName: this.table,
          Key: registrationKey(eventId, userId),
          ConditionExpression: '#status = :status AND registrationId = :id',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':status': removed.status, ':id': removed.registrationId },
        },
      };

      let outcome: TransactOutcome;
      let promoted: Registration[] = [];
      if (removed.status === 'waitlisted') {
        outcome = await this.transact([
          deleteRegistration,
          this.moveCounters(eventId, { waitlist: -1 }, now),
        ]);
      } else {
        const [head] = await this.waitlistHeads(eventId, 1);
        if (head) {
          // The seat passes to the head of the waitlist in the same transaction that frees it.
          outcome = await this.transact([
            deleteRegistration,
            this.promoteItem(head, now),
            this.moveCounters(eventId, { waitlist: -1 }, now),
          ]);
          promoted = [
            { ...head, status: 'confirmed', promotedAt: now, waitlistPosition: undefined },
          ];
        } else {
          // Nobody waits, as the condition re-checks at commit: a waitlisted registration that
          // lands in between makes this fail and the loop promote it instead.
          outcome = await this.transact([
            deleteRegistration,
            this.moveCounters(eventId, { registered: -1 }, now, 'waitlistCount = :zero'),
          ]);
        }
      }
      if (outcome.ok)
        return { removed: stripPosition(removed), promoted: promoted.map(stripPosition) };
    }
    throw EventsErrors.busy();
  }

  async listEventRegistrations(eventId: string, page: PageRequest): Promise<Page<Registration>> {
    if (!(await this.getItem(eventKey(eventId)))) throw EventsErrors.eventNotFound(eventId);
    const scope = `event-registrations:${eventId}`;
    // Positions continue across pages: the cursor carries how many waitlisted came before.
    const seen = page.cursor ? Number(decodeCursor(scope, page.cursor).extra.w ?? 0) : 0;
    if (!Number.isInteger(seen) || seen < 0) throw invalidCursor();
    let position = seen;
    return this.queryPage(
      scope,
      {
        TableName: this.table,
        IndexName: 'lsi1',
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': `EVENT#${eventId}` },
        ConsistentRead: true,
      },
      page,
      (item) => {
        const registration = toRegistration(item);
        if (registration.status === 'waitlisted') registration.waitlistPosition = ++position;
        return registration;
      },
      () => ({ w: position }),
    );
  }

  async listUserRegistrations(userId: string, page: PageRequest): Promise<Page<UserRegistration>> {
    if (!(await this.getItem(userKey(userId)))) throw EventsErrors.userNotFound(userId);
    const result = await this.queryPage(
      `user-registrations:${userId}`,
      {
        TableName: this.table,
        IndexName: 'gsi2',
        KeyConditionExpression: 'GSI2PK = :pk',
        ExpressionAttributeValues: { ':pk': `USER#${userId}#REGS` },
        ScanIndexForward: false,
      },
      page,
      (item) => ({ PK: item.PK as string, SK: item.SK as string, eventId: item.eventId as string }),
    );
    // The index is eventually consistent: re-read the registrations themselves and their events,
    // in batches (never one call per registration).
    const keys = result.items.flatMap((ref) => [{ PK: ref.PK, SK: ref.SK }, eventKey(ref.eventId)]);
    const items = await this.batchGet(keys);
    const byKey = new Map(items.map((item) => [`${item.PK}|${item.SK}`, item]));
    const registrations: UserRegistration[] = [];
    for (const ref of result.items) {
      const registrationItem = byKey.get(`${ref.PK}|${ref.SK}`);
      const eventItem = byKey.get(`EVENT#${ref.eventId}|EVENT`);
      // Left behind by an event deletion that has not finished: not a registration any more.
      if (!registrationItem || !eventItem) continue;
      const registration = toRegistration(registrationItem);
      if (registration.status === 'waitlisted') {
        registration.waitlistPosition = await this.waitlistPosition(
          registration.eventId,
          registration.registrationId,
        );
      }
      registrations.push({ ...registration, event: toEvent(eventItem) });
    }
    return { items: registrations, nextCursor: result.nextCursor };
  }

  // ---- internals ---------------------------------------------------------------------------

  /**
   * Promotes waitlisted registrations while seats are free, in batches of at most 99 (the
   * transaction limit). Registration refuses newcomers a free seat while anyone waits, so the
   * queue keeps its order between batches.
   */
  private async fillFreeSeats(eventId: string, now: string): Promise<void> {
    for (let failures = 0; failures < MAX_STATE_RETRIES; ) {
      const event = await this.getEvent(eventId);
      if (!event) return;
      const heads = await this.waitlistHeads(eventId, promotable(event));
      if (heads.length === 0) return;
      const outcome = await this.transact([
        this.moveCounters(
          eventId,
          { registered: heads.length, waitlist: -heads.length },
          now,
          'registeredCount = :rc AND waitlistCount = :wc AND #capacity = :cap',
          { ':rc': event.registeredCount, ':wc': event.waitlistCount, ':cap': event.capacity },
        ),
        ...heads.map((head) => this.promoteItem(head, now)),
      ]);
      if (!outcome.ok) failures++;
    }
    throw EventsErrors.busy();
  }

  /** The first `count` waitlisted registrations, in join order (strongly consistent LSI read). */
  private async waitlistHeads(eventId: string, count: number): Promise<Registration[]> {
    const limit = Math.min(count, MAX_PROMOTIONS_PER_TRANSACTION);
    if (limit <= 0) return [];
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'lsi1',
        KeyConditionExpression: 'PK = :pk AND begins_with(LSI1SK, :w)',
        ExpressionAttributeValues: { ':pk': `EVENT#${eventId}`, ':w': 'W#' },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (page.Items ?? []).map(toRegistration);
  }

  private async waitlistPosition(eventId: string, registrationId: string): Promise<number> {
    let count = 0;
    for await (const page of this.queryPages(
      {
        TableName: this.table,
        IndexName: 'lsi1',
        KeyConditionExpression: 'PK = :pk AND LSI1SK BETWEEN :first AND :me',
        ExpressionAttributeValues: {
          ':pk': `EVENT#${eventId}`,
          ':first': 'W#',
          ':me': waitlistSortKey(registrationId),
        },
        Select: 'COUNT',
        ConsistentRead: true,
      },
      (output) => output.Count ?? 0,
    )) {
      count += page;
    }
    return count;
  }

  /** Every page of a query, following LastEvaluatedKey; `pick` chooses what each page yields. */
  private async *queryPages<T = Item[]>(
    input: QueryCommandInput,
    pick: (output: QueryCommandOutput) => T = (output) => (output.Items ?? []) as T,
  ): AsyncGenerator<T> {
    let start: Key | undefined;
    do {
      const output = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: start }));
      yield pick(output);
      start = output.LastEvaluatedKey;
    } while (start);
  }

  private promoteItem(head: Registration, now: string) {
    return {
      Update: {
        TableName: this.table,
        Key: registrationKey(head.eventId, head.userId),
        UpdateExpression: 'SET #status = :confirmed, LSI1SK = :sk, promotedAt = :now',
        ConditionExpression: '#status = :waitlisted AND registrationId = :id',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':confirmed': 'confirmed',
          ':waitlisted': 'waitlisted',
          ':sk': confirmedSortKey(head.registrationId),
          ':now': now,
          ':id': head.registrationId,
        },
      },
    };
  }

  private moveCounters(
    eventId: string,
    delta: { registered?: number; waitlist?: number },
    now: string,
    extraCondition?: string,
    extraValues: Record<string, NativeAttributeValue> = {},
  ) {
    const sets = ['updatedAt = :now'];
    const values: Record<string, NativeAttributeValue> = { ':now': now, ...extraValues };
    if (delta.registered) {
      sets.push('registeredCount = registeredCount + :dr');
      values[':dr'] = delta.registered;
    }
    if (delta.waitlist) {
      sets.push('waitlistCount = waitlistCount + :dw');
      values[':dw'] = delta.waitlist;
    }
    if (extraCondition?.includes(':zero')) values[':zero'] = 0;
    return {
      Update: {
        TableName: this.table,
        Key: eventKey(eventId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: ['attribute_exists(PK)', extraCondition].filter(Boolean).join(' AND '),
        ...(extraCondition?.includes('#capacity')
          ? { ExpressionAttributeNames: { '#capacity': 'capacity' } }
          : {}),
        ExpressionAttributeValues: values,
      },
    };
  }

  /** Full without a waitlist: still say 404 for an unknown user, 409 for a duplicate first. */
  private async explainRefusal(eventId: string, userId: string): Promise<void> {
    const [user, registration] = await Promise.all([
      this.getItem(userKey(userId)),
      this.getItem(registrationKey(eventId, userId)),
    ]);
    if (!user) throw EventsErrors.userNotFound(userId);
    if (registration) throw EventsErrors.alreadyRegistered(eventId, userId);
  }

  private async transact(
    items: NonNullable<TransactWriteCommandInput['TransactItems']>,
  ): Promise<TransactOutcome> {
    try {
      return await transactWrite(
        this.doc,
        { TransactItems: items },
        { maxAttempts: this.maxConflictAttempts },
      );
    } catch (error) {
      if (error instanceof TransactionContentionError) throw EventsErrors.busy(error);
      throw error;
    }
  }

  /** Writes a new item; an existing one with the same key is the error `exists` builds. */
  private async putIfAbsent(item: Item, exists: () => Error): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') throw exists();
      throw error;
    }
  }

  private async getItem(key: Key): Promise<Item | undefined> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }),
    );
    return result.Item;
  }

  private async batchGet(keys: Key[]): Promise<Item[]> {
    const unique = [...new Map(keys.map((key) => [`${key.PK}|${key.SK}`, key])).values()];
    const items: Item[] = [];
    for (let i = 0; i < unique.length; i += 100) {
      let request: Key[] | undefined = unique.slice(i, i + 100);
      for (let round = 0; request && request.length > 0; round++) {
        if (round > 0) await backoff(round);
        const result = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.table]: { Keys: request, ConsistentRead: true } },
          }),
        );
        items.push(...(result.Responses?.[this.table] ?? []));
        request = result.UnprocessedKeys?.[this.table]?.Keys as Key[] | undefined;
      }
    }
    return items;
  }

  private async batchDelete(keys: Key[]): Promise<void> {
    let requests = keys.map((key) => ({ DeleteRequest: { Key: key } }));
    for (let round = 0; requests.length > 0; round++) {
      if (round > 0) await backoff(round);
      const result = await this.doc.send(
        new BatchWriteCommand({ RequestItems: { [this.table]: requests } }),
      );
      requests = (result.UnprocessedItems?.[this.table] ?? []) as typeof requests;
    }
  }

  private async queryPage<T>(
    scope: string,
    query: QueryCommandInput,
    page: PageRequest,
    map: (item: Item) => T,
    extra?: () => Record<string, string | number>,
  ): Promise<Page<T>> {
    const start = page.cursor ? decodeCursor(scope, page.cursor).key : undefined;
    let result: QueryCommandOutput;
    try {
      result = await this.doc.send(
        new QueryCommand({ ...query, Limit: page.limit, ExclusiveStartKey: start }),
      );
    } catch (error) {
      // A cursor whose key does not belong to this query (forged or edited) is the client's error.
      if (start && (error as Error).name === 'ValidationException') throw invalidCursor();
      throw error;
    }
    const items = (result.Items ?? []).map(map);
    const last = result.LastEvaluatedKey;
    return { items, nextCursor: last ? encodeCursor(scope, last, extra?.()) : undefined };
  }
}

// ---- mapping -------------------------------------------------------------------------------

function eventItem(event: Event): Item {
  return {
    ...eventKey(event.eventId),
    type: 'event',
    ...event,
    GSI1PK: `STATUS#${event.status}`,
    GSI1SK: `${event.createdAt}#${event.eventId}`,
    GSI2PK: 'EVENTS',
    GSI2SK: `${event.createdAt}#${event.eventId}`,
  };
}

function registrationItem(r: NewRegistration & { status: RegistrationStatus }): Item {
  return {
    ...registrationKey(r.eventId, r.userId),
    type: 'registration',
    registrationId: r.registrationId,
    eventId: r.eventId,
    userId: r.userId,
    status: r.status,
    registeredAt: r.registeredAt,
    LSI1SK:
      r.status === 'confirmed'
        ? confirmedSortKey(r.registrationId)
        : waitlistSortKey(r.registrationId),
    GSI2PK: `USER#${r.userId}#REGS`,
    GSI2SK: `${r.registeredAt}#${r.eventId}`,
  };
}

function toEvent(item: Item): Event {
  return {
    eventId: item.eventId,
    title: item.title,
    description: item.description,
    date: item.date,
    location: item.location,
    capacity: item.capacity,
    organizer: item.organizer,
    status: item.status,
    hasWaitlist: item.hasWaitlist,
    registeredCount: item.registeredCount,
    waitlistCount: item.waitlistCount,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

function toUser(item: Item): User {
  return { userId: item.userId, name: item.name, createdAt: item.createdAt };
}

function toRegistration(item: Item): Registration {
  return {
    registrationId: item.registrationId,
    userId: item.userId,
    eventId: item.eventId,
    status: item.status,
    registeredAt: item.registeredAt,
    ...(item.promotedAt ? { promotedAt: item.promotedAt } : {}),
  };
}

function stripPosition(registration: Registration): Registration {
  const { waitlistPosition: _, ...rest } = registration;
  return rest;
}

/** Seats that are free while people wait: what a promotion must fill. */
function promotable(event: Pick<Event, 'capacity' | 'registeredCount' | 'waitlistCount'>): number {
  return Math.max(0, Math.min(event.capacity - event.registeredCount, event.waitlistCount));
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function backoff(round: number): Promise<void> {
  return new Promise((resolve) =>
    setTimeout(resolve, Math.random() * Math.min(1000, 25 * 2 ** round)),
  );
}
