import { type Fragment, join, list, name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item, TransactItem } from '../../platform/dynamo/table.js';
import { S, type TableDefinition } from '../../platform/dynamo/tables.js';
import type { Page, PageRequest } from '../../platform/page.js';
import { EventsErrors } from './events.errors.js';
import {
  type Created,
  type Event,
  type EventChanges,
  type EventStatus,
  openStatuses,
  type Registration,
  type RequestKey,
  type Waitlist,
  type Written,
} from './events.model.js';
import type { EventRepository } from './events.repository.js';
import { afterPromotion, decodeRuns, encodeRuns, waitlistAfter } from './events.waitlist.rules.js';

/*
 * Key design:
 *   event         PK=EVENT#<eventId>  SK=EVENT         GSI1PK=STATUS#<status>, GSI2PK=EVENTS
 *   user          PK=USER#<userId>    SK=USER          GSI2PK=USERS
 *   registration  PK=EVENT#<eventId>  SK=REG#<userId>  GSI2PK=USER#<userId>#REGS
 *                 LSI1SK=C#<registrationId> (confirmed) | W#<ticket, 12 digits> (waitlisted)
 * The event item holds registeredCount and waitlistCount and the waitlist bookkeeping; every
 * transaction that adds, removes or promotes a registration moves them in the same
 * TransactWriteItems, under conditions on the event item, so the counters always equal the rows
 * and capacity holds. An event being deleted keeps its item, marked `deleting` (GSI1PK=DELETING,
 * out of GSI2), until its registrations are gone: every condition below requires it unmarked.
 */

/**
 * The events table (declared by events.module.ts; the CDK stack, the local runtime and the tests
 * build it from this object).
 * - gsi1  events by status           GSI1PK=STATUS#<status> | DELETING   GSI1SK=<createdAt>#<eventId>
 * - gsi2  collections                GSI2PK=EVENTS | USERS | USER#<userId>#REGS, GSI2SK=<createdAt>#<id>
 * - lsi1  an event's registrations   LSI1SK=C#<registrationId> | W#<ticket>
 *         (an LSI, not a GSI, because promotion needs a strongly consistent read of the head
 *         of the waitlist)
 */
export const eventsTable = {
  id: 'events',
  partitionKey: S('PK'),
  sortKey: S('SK'),
  globalIndexes: [
    { indexName: 'gsi1', partitionKey: S('GSI1PK'), sortKey: S('GSI1SK') },
    { indexName: 'gsi2', partitionKey: S('GSI2PK'), sortKey: S('GSI2SK') },
  ],
  localIndexes: [{ indexName: 'lsi1', sortKey: S('LSI1SK') }],
} as const satisfies TableDefinition;

/** Keys and index names, exported for the benchmark's raw-transaction baseline. */
export const eventsKeys = {
  event: (eventId: string) => ({ PK: `EVENT#${eventId}`, SK: 'EVENT' }),
  user: (userId: string) => ({ PK: `USER#${userId}`, SK: 'USER' }),
  registration: (eventId: string, userId: string) => ({
    PK: `EVENT#${eventId}`,
    SK: `REG#${userId}`,
  }),
  confirmedSort: (registrationId: string) => `C#${registrationId}`,
  waitlistSort: (ticket: number) => `W#${String(ticket).padStart(12, '0')}`,
  byStatusIndex: eventsTable.globalIndexes[0].indexName,
  collectionsIndex: eventsTable.globalIndexes[1].indexName,
  registrationsIndex: eventsTable.localIndexes[0].indexName,
} as const;

const { event: eventKey } = eventsKeys;
const DELETING = 'DELETING';

/** The event exists and is not being deleted. */
export const live = x`attribute_exists(PK) AND attribute_not_exists(deleting)`;
/** …and takes registrations (rule 6). */
export const open = x`${live} AND ${name('status')} IN (${list(openStatuses)})`;

/** Every event, oldest first: the collection index holds them all under one key. */
const everyEvent = { index: eventsKeys.collectionsIndex, key: x`GSI2PK = ${'EVENTS'}` };

export class DynamoEventRepository implements EventRepository {
  constructor(private readonly table: DynamoTable) {}

  async createEvent(event: Event, requestKey: RequestKey): Promise<Created<Event>> {
    const put = await this.table.putIfAbsent(eventItem(event, requestKey));
    if (put.created) return put;
    const existing = put.existing;
    return {
      created: false,
      existing: existing && !existing.deleting ? toEvent(existing) : undefined,
      requestKey: existing?.requestKey,
      beingDeleted: Boolean(existing?.deleting),
    };
  }

  async getEvent(eventId: string): Promise<Event | undefined> {
    return liveEvent(await this.table.get(eventKey(eventId)));
  }

  listEvents(
    filter: { status?: EventStatus | undefined },
    page: PageRequest,
  ): Promise<Page<Event>> {
    const spec = filter.status
      ? { index: eventsKeys.byStatusIndex, key: x`GSI1PK = ${`STATUS#${filter.status}`}` }
      : everyEvent;
    return this.table.queryPage(`events:${filter.status ?? '*'}`, spec, page, toEvent);
  }

  async *allEvents(): AsyncIterable<Event[]> {
    for await (const items of this.table.queryPages(everyEvent)) {
      yield items.map(toEvent);
    }
  }

  async changeEvent(
    eventId: string,
    changes: EventChanges,
    now: string,
  ): Promise<Written<Event> & { current?: Event | undefined }> {
    // With a new capacity, the condition is the invariant itself: capacity not below the
    // confirmed count (rule 1), and no free seat while anyone waits (rule 4).
    const capacity = changes.capacity;
    const condition =
      capacity === undefined
        ? live
        : x`${live} AND registeredCount <= ${capacity} AND (waitlistCount = ${0} OR registeredCount = ${capacity})`;
    const result = await this.table.update(eventKey(eventId), {
      update: x`SET ${changeActions(changes, now)}`,
      condition,
    });
    if (result.ok) return { ok: true, value: toEvent(result.item) };
    return { ok: false, current: liveEvent(result.current) };
  }

  changeEventAndPromote(
    current: Event,
    changes: EventChanges,
    heads: readonly Registration[],
    now: string,
  ): Promise<Written<Event>> {
    return commitPromotion(this.table, current, changes, heads, now);
  }

  async markDeleted(eventId: string, now: string): Promise<'marked' | 'absent' | 'already-marked'> {
    const result = await this.table.update(eventKey(eventId), {
      update: x`SET deleting = ${now}, GSI1PK = ${DELETING} REMOVE GSI2PK, GSI2SK`,
      condition: live,
    });
    if (result.ok) return 'marked';
    return result.current ? 'already-marked' : 'absent';
  }

  async finishDeletion(eventId: string): Promise<number> {
    let removed = 0;
    for await (const items of this.table.queryPages({
      key: x`PK = ${eventKey(eventId).PK} AND begins_with(SK, ${'REG#'})`,
      consistent: true,
      attributes: ['PK', 'SK'],
    })) {
      await this.table.batchDelete(items.map((item) => ({ PK: item.PK, SK: item.SK })));
      removed += items.length;
    }
    // Last, so that until now the marked item kept the id taken and every write refused.
    await this.table.delete(eventKey(eventId), x`attribute_exists(deleting)`);
    return removed;
  }

  async *eventsBeingDeleted(): AsyncIterable<string> {
    for await (const items of this.table.queryPages({
      index: eventsKeys.byStatusIndex,
      key: x`GSI1PK = ${DELETING}`,
    })) {
      for (const item of items) yield item.eventId as string;
    }
  }
}

/*
 * The waitlist as the event item holds it (waitlistIssued, waitlistFrontier, waitlistHoles,
 * waitlistHoleRuns; decided in events.waitlist.rules.ts): promotions move the frontier, folds
 * write the frontier and the runs under the condition that they are still those read. The
 * tickets themselves are taken and given back by the registrations adapter.
 */

/**
 * Promotes `heads` into free seats, applying `changes` to the event in the same transaction,
 * provided the counters and capacity are still those of `current`; answers the event as committed.
 */
export async function commitPromotion(
  table: DynamoTable,
  current: Event,
  changes: EventChanges,
  heads: readonly Registration[],
  now: string,
): Promise<Written<Event>> {
  const { frontier, passedHoles: passed } = afterPromotion(current.waitlist, heads);
  const outcome = await transactOn(table, [
    table.updateItem(eventKey(current.eventId), {
      update: join(
        [
          x`SET ${changeActions(changes, now)}`,
          x`, registeredCount = registeredCount + ${heads.length}`,
          x`, waitlistCount = waitlistCount - ${heads.length}, waitlistFrontier = ${frontier}`,
          ...(passed.length > 0 ? [x` DELETE waitlistHoles ${new Set(passed)}`] : []),
        ],
        '',
      ),
      // Never move the frontier back (a fold may have moved it over holes in between).
      condition: x`${countersUnchanged(current)} AND waitlistFrontier <= ${frontier}`,
    }),
    ...heads.map((head) => promoteItem(table, head, now)),
  ]);
  if (!outcome.ok) return { ok: false };
  return {
    ok: true,
    value: {
      ...current,
      ...changes,
      updatedAt: now,
      registeredCount: current.registeredCount + heads.length,
      waitlistCount: current.waitlistCount - heads.length,
      waitlist: waitlistAfter(current.waitlist, { promoted: heads }),
    },
  };
}

/** A waiting registration confirmed, provided it still waits under the same registration. */
export function promoteItem(table: DynamoTable, head: Registration, now: string): TransactItem {
  return table.updateItem(eventsKeys.registration(head.eventId, head.userId), {
    update: x`SET ${name('status')} = ${'confirmed'}, LSI1SK = ${eventsKeys.confirmedSort(head.registrationId)}, promotedAt = ${now} REMOVE ticket`,
    condition: x`${name('status')} = ${'waitlisted'} AND registrationId = ${head.registrationId}`,
  });
}

/**
 * Update actions that write the bookkeeping `folded` (see compactWaitlist) over `seen`, starting
 * inside a SET clause: the frontier and the runs, and the removal of exactly the holes `seen`
 * recorded one by one (a hole recorded since stays, for the next fold).
 */
export function foldActions(seen: Waitlist, folded: Waitlist): Fragment {
  const runs = folded.runs ?? [];
  return join(
    [
      x`waitlistFrontier = ${folded.frontier}`,
      runs.length > 0 ? x`, waitlistHoleRuns = ${encodeRuns(runs)}` : x` REMOVE waitlistHoleRuns`,
      ...(seen.holes.length > 0 ? [x` DELETE waitlistHoles ${new Set(seen.holes)}`] : []),
    ],
    '',
  );
}

/**
 * The stored frontier and runs are still those of `seen`. Holes only grow until a fold or a
 * promotion, and both change one of these: so what a fold from `seen` adds to the runs all left.
 */
export function bookkeepingIs(seen: Waitlist): Fragment {
  const runs = seen.runs ?? [];
  return x`waitlistFrontier = ${seen.frontier} AND ${
    runs.length > 0
      ? x`waitlistHoleRuns = ${encodeRuns(runs)}`
      : x`attribute_not_exists(waitlistHoleRuns)`
  }`;
}

/** Every events transaction: contention is retried, then answered EVENTS.BUSY. */
export function transactOn(table: DynamoTable, items: readonly TransactItem[]) {
  return table.transact(items, { onContention: EventsErrors.busy });
}

/** `SET` actions for the changed fields (their values), the status index, and updatedAt. */
function changeActions(changes: EventChanges, now: string): Fragment {
  const actions = Object.entries(changes)
    .filter(([, value]) => value !== undefined)
    .map(([field, value]) => x`${name(field)} = ${value}`);
  if (changes.status) actions.push(x`GSI1PK = ${`STATUS#${changes.status}`}`);
  actions.push(x`updatedAt = ${now}`);
  return join(actions, ', ');
}

function countersUnchanged(current: Event): Fragment {
  return x`${live} AND registeredCount = ${current.registeredCount} AND waitlistCount = ${current.waitlistCount} AND ${name('capacity')} = ${current.capacity}`;
}

/** The event as stored (exported for the tests that weigh it). */
export function eventItem(event: Event, requestKey: RequestKey): Item {
  const { waitlist, ...fields } = event;
  const runs = waitlist.runs ?? [];
  return {
    ...eventKey(event.eventId),
    type: 'event',
    ...fields,
    waitlistIssued: waitlist.issued,
    waitlistFrontier: waitlist.frontier,
    ...(waitlist.holes.length > 0 ? { waitlistHoles: new Set(waitlist.holes) } : {}),
    ...(runs.length > 0 ? { waitlistHoleRuns: encodeRuns(runs) } : {}),
    ...(requestKey ? { requestKey } : {}),
    GSI1PK: `STATUS#${event.status}`,
    GSI1SK: `${event.createdAt}#${event.eventId}`,
    GSI2PK: 'EVENTS',
    GSI2SK: `${event.createdAt}#${event.eventId}`,
  };
}

export function liveEvent(item: Item | undefined): Event | undefined {
  return item && !item.deleting ? toEvent(item) : undefined;
}

export function toEvent(item: Item): Event {
  const holes = item.waitlistHoles as Set<number> | undefined;
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
    waitlist: {
      issued: item.waitlistIssued ?? 0,
      frontier: item.waitlistFrontier ?? 0,
      holes: holes ? [...holes].map(Number) : [],
      runs: decodeRuns(item.waitlistHoleRuns),
    },
  };
}
