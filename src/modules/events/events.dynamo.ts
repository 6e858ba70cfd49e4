import { and, type Fragment, join, list, name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item, TransactItem } from '../../platform/dynamo/table.js';
import { S, type TableDefinition } from '../../platform/dynamo/tables.js';
import type { Page, PageRequest } from '../../platform/page.js';
import { EventsErrors } from './events.errors.js';
import {
  type Event,
  type EventChanges,
  type EventStatus,
  openStatuses,
  type Registration,
  type RequestKey,
  type TicketRun,
  type User,
  type Waitlist,
} from './events.model.js';
import type {
  Created,
  EventRepository,
  NewRegistration,
  RegistrationCommit,
  RegistrationFacts,
  UnregisterPlan,
  Written,
} from './events.repository.js';
import { afterPromotion, waitlistAfter } from './events.rules.js';

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

const { event: eventKey, user: userKey, registration: registrationKey } = eventsKeys;
const DELETING = 'DELETING';

/** The event exists and is not being deleted. */
const live = x`attribute_exists(PK) AND attribute_not_exists(deleting)`;
/** …and takes registrations (rule 6). */
const open = x`${live} AND ${name('status')} IN (${list(openStatuses)})`;

/** Every event, oldest first: the collection index holds them all under one key. */
const everyEvent = { index: eventsKeys.collectionsIndex, key: x`GSI2PK = ${'EVENTS'}` };

export class DynamoEventRepository implements EventRepository {
  constructor(private readonly table: DynamoTable) {}

  // ---- events ------------------------------------------------------------------------------

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

  async changeEventAndPromote(
    current: Event,
    changes: EventChanges,
    heads: readonly Registration[],
    now: string,
  ): Promise<Written<Event>> {
    const { frontier, passedHoles: passed } = afterPromotion(current.waitlist, heads);
    const outcome = await this.transact([
      this.table.updateItem(eventKey(current.eventId), {
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
      ...heads.map((head) => this.promoteItem(head, now)),
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

  // ---- users -------------------------------------------------------------------------------

  async createUser(user: User, requestKey: RequestKey): Promise<Created<User>> {
    const put = await this.table.putIfAbsent({
      ...userKey(user.userId),
      type: 'user',
      ...user,
      ...(requestKey ? { requestKey } : {}),
      GSI2PK: 'USERS',
      GSI2SK: `${user.createdAt}#${user.userId}`,
    });
    if (put.created) return put;
    return {
      created: false,
      existing: put.existing ? toUser(put.existing) : undefined,
      requestKey: put.existing?.requestKey,
      beingDeleted: false,
    };
  }

  async getUser(userId: string): Promise<User | undefined> {
    const item = await this.table.get(userKey(userId));
    return item ? toUser(item) : undefined;
  }

  listUsers(page: PageRequest): Promise<Page<User>> {
    return this.table.queryPage(
      'users',
      { index: eventsKeys.collectionsIndex, key: x`GSI2PK = ${'USERS'}` },
      page,
      toUser,
    );
  }

  // ---- registrations -----------------------------------------------------------------------

  async getRegistration(eventId: string, userId: string) {
    const item = await this.table.get(registrationKey(eventId, userId));
    return item ? { registration: toRegistration(item), requestKey: item.requestKey } : undefined;
  }

  async registrationFacts(eventId: string, userId: string): Promise<RegistrationFacts> {
    const items = await this.table.batchGet([
      eventKey(eventId),
      userKey(userId),
      registrationKey(eventId, userId),
    ]);
    const find = ({ PK, SK }: { PK: string; SK: string }) =>
      items.find((item) => item.PK === PK && item.SK === SK);
    const existing = find(registrationKey(eventId, userId));
    return {
      event: liveEvent(find(eventKey(eventId))),
      userExists: find(userKey(userId)) !== undefined,
      existing: existing
        ? { registration: toRegistration(existing), requestKey: existing.requestKey }
        : undefined,
    };
  }

  confirm(registration: NewRegistration): Promise<RegistrationCommit> {
    return this.commitRegistration(
      registration,
      x`SET registeredCount = registeredCount + ${1}, updatedAt = ${registration.registeredAt}`,
      x`${open} AND registeredCount < ${name('capacity')} AND waitlistCount = ${0}`,
    );
  }

  async takeTicket(
    eventId: string,
    now: string,
  ): Promise<{ ticket: number; event: Event } | undefined> {
    const result = await this.table.update(eventKey(eventId), {
      update: x`ADD waitlistIssued ${1} SET waitlistTicketAt = ${now}`,
      condition: live,
    });
    if (!result.ok) return undefined;
    return { ticket: result.item.waitlistIssued as number, event: toEvent(result.item) };
  }

  waitlist(registration: NewRegistration, ticket: number): Promise<RegistrationCommit> {
    return this.commitRegistration(
      registration,
      x`SET waitlistCount = waitlistCount + ${1}, updatedAt = ${registration.registeredAt}`,
      // Full, or people already wait (a newcomer never takes a seat from them); and no promotion
      // has passed this ticket since it was taken (it would have been skipped).
      x`${open} AND hasWaitlist = ${true} AND (registeredCount >= ${name('capacity')} OR waitlistCount > ${0}) AND waitlistFrontier < ${ticket}`,
      ticket,
    );
  }

  async releaseTicket(eventId: string, ticket: number): Promise<void> {
    // A hole like any ticket that left (a set addition: no condition on the bookkeeping, so no
    // conflict with anyone); the service folds it afterwards. Tickets are never issued twice, so
    // one that a join thought it had given back can't end up shared.
    await this.table.update(eventKey(eventId), {
      update: x`ADD waitlistHoles ${new Set([ticket])}`,
      condition: live,
    });
  }

  async foldWaitlist(
    eventId: string,
    seen: Waitlist,
    folded: Waitlist,
  ): Promise<{ ok: true } | { ok: false; current: Event | undefined }> {
    const result = await this.table.update(eventKey(eventId), {
      update: x`SET ${foldActions(seen, folded)}`,
      condition: x`${live} AND ${bookkeepingIs(seen)}`,
    });
    return result.ok ? { ok: true } : { ok: false, current: liveEvent(result.current) };
  }

  async releaseUnusedTickets(
    eventId: string,
    tickets: readonly number[],
    issued: number,
    issuedBefore: string | undefined,
  ): Promise<boolean> {
    // No ticket issued since the waiting registrations were read (nor, with `issuedBefore`,
    // lately): none of these tickets belongs to a join still in flight.
    const result = await this.table.update(eventKey(eventId), {
      update: x`ADD waitlistHoles ${new Set(tickets)}`,
      condition: and(
        x`${live} AND waitlistIssued = ${issued}`,
        issuedBefore
          ? x`(attribute_not_exists(waitlistTicketAt) OR waitlistTicketAt < ${issuedBefore})`
          : undefined,
      ),
    });
    return result.ok;
  }

  async waitlistHeads(eventId: string, count: number): Promise<Registration[]> {
    if (count <= 0) return [];
    const heads: Registration[] = [];
    for await (const items of this.table.queryPages(
      {
        index: eventsKeys.registrationsIndex,
        key: x`PK = ${eventKey(eventId).PK} AND begins_with(LSI1SK, ${'W#'})`,
        consistent: true,
      },
      count,
    )) {
      heads.push(...items.map(toRegistration));
      break;
    }
    return heads;
  }

  async waitingTickets(eventId: string): Promise<number[]> {
    const tickets: number[] = [];
    for await (const items of this.table.queryPages({
      index: eventsKeys.registrationsIndex,
      key: x`PK = ${eventKey(eventId).PK} AND begins_with(LSI1SK, ${'W#'})`,
      consistent: true,
      attributes: ['ticket'],
    })) {
      tickets.push(...items.map((item) => Number(item.ticket ?? 0)));
    }
    return tickets;
  }

  async promote(current: Event, heads: readonly Registration[], now: string): Promise<boolean> {
    const written = await this.changeEventAndPromote(current, {}, heads, now);
    return written.ok;
  }

  async unregister(plan: UnregisterPlan, now: string): Promise<boolean> {
    const { registration } = plan;
    const removeRegistration = this.table.deleteItem(
      registrationKey(registration.eventId, registration.userId),
      x`${name('status')} = ${registration.status} AND registrationId = ${registration.registrationId}`,
    );
    const event = (update: Fragment, condition: Fragment = live) =>
      this.table.updateItem(eventKey(registration.eventId), {
        update: x`SET updatedAt = ${now}, ${update}`,
        condition,
      });
    const { fold } = plan;
    let items: TransactItem[];
    switch (plan.kind) {
      case 'leave-waitlist':
        items = [
          removeRegistration,
          fold
            ? event(
                x`waitlistCount = waitlistCount - ${1}, ${foldActions(fold.seen, fold.folded)}`,
                x`${live} AND ${bookkeepingIs(fold.seen)}`,
              )
            : event(
                x`waitlistCount = waitlistCount - ${1} ADD waitlistHoles ${new Set([registration.ticket ?? 0])}`,
              ),
        ];
        break;
      case 'free-seat':
        // Nobody waits, as the condition re-checks at commit: a waitlisted registration that
        // lands in between makes this fail, and the next attempt passes the seat instead.
        items = [
          removeRegistration,
          event(x`registeredCount = registeredCount - ${1}`, x`${live} AND waitlistCount = ${0}`),
        ];
        break;
      case 'pass-seat':
        // The seat passes to the head of the waitlist in the same transaction that frees it.
        items = [
          removeRegistration,
          this.promoteItem(plan.head, now),
          fold
            ? event(
                x`waitlistCount = waitlistCount - ${1}, ${foldActions(fold.seen, fold.folded)}`,
                x`${live} AND ${bookkeepingIs(fold.seen)}`,
              )
            : event(
                x`waitlistCount = waitlistCount - ${1}, waitlistFrontier = ${plan.frontier}${
                  plan.passedHoles.length > 0
                    ? x` DELETE waitlistHoles ${new Set(plan.passedHoles)}`
                    : x``
                }`,
                // Never move the frontier back (a promotion that passed further got there first).
                x`${live} AND waitlistFrontier <= ${plan.frontier}`,
              ),
        ];
        break;
    }
    return (await this.transact(items)).ok;
  }

  async listEventRegistrations(eventId: string, page: PageRequest): Promise<Page<Registration>> {
    return this.table.queryPage(
      `event-registrations:${eventId}`,
      {
        index: eventsKeys.registrationsIndex,
        key: x`PK = ${eventKey(eventId).PK}`,
        consistent: true,
      },
      page,
      toRegistration,
    );
  }

  async listUserRegistrations(
    userId: string,
    page: PageRequest,
  ): Promise<Page<{ registration: Registration; event: Event }>> {
    const refs = await this.table.queryPage(
      `user-registrations:${userId}`,
      {
        index: eventsKeys.collectionsIndex,
        key: x`GSI2PK = ${`USER#${userId}#REGS`}`,
        forward: false,
      },
      page,
      (item) => ({ eventId: item.eventId as string }),
    );
    // The index is eventually consistent: re-read the registrations themselves and their events,
    // in batches (never one call per registration).
    const items = await this.table.batchGet(
      refs.items.flatMap(({ eventId }) => [registrationKey(eventId, userId), eventKey(eventId)]),
    );
    const byKey = new Map(items.map((item) => [`${item.PK}|${item.SK}`, item]));
    const joined: { registration: Registration; event: Event }[] = [];
    for (const { eventId } of refs.items) {
      const { PK, SK } = registrationKey(eventId, userId);
      const registration = byKey.get(`${PK}|${SK}`);
      const event = liveEvent(byKey.get(`${PK}|EVENT`));
      // Left behind by an event deletion that has not finished: not a registration any more.
      if (!registration || !event) continue;
      joined.push({ registration: toRegistration(registration), event });
    }
    return { items: joined, nextCursor: refs.nextCursor };
  }

  // ---- internals ---------------------------------------------------------------------------

  /**
   * The registration transaction: the event update (counters, under the condition that decided
   * this outcome), the registration itself (one per user per event, by key), and the user's
   * existence. A failure says which of the three failed, with the event as it is now.
   */
  private async commitRegistration(
    registration: NewRegistration,
    update: Fragment,
    condition: Fragment,
    ticket?: number,
  ): Promise<RegistrationCommit> {
    const item = registrationItem(registration, ticket);
    const outcome = await this.transact([
      this.table.updateItem(eventKey(registration.eventId), { update, condition }),
      this.table.put(item, x`attribute_not_exists(PK)`),
      this.table.check(userKey(registration.userId), x`attribute_exists(PK)`),
    ]);
    if (outcome.ok) return { ok: true, registration: toRegistration(item) };
    const [eventFailed, registrationFailed, userFailed] = outcome.reasons.map(
      (code) => code === 'ConditionalCheckFailed',
    );
    const [currentEvent, existing] = outcome.current;
    return {
      ok: false,
      event: eventFailed ? liveEvent(currentEvent) : 'unchanged',
      userMissing: Boolean(userFailed),
      existing:
        registrationFailed && existing
          ? { registration: toRegistration(existing), requestKey: existing.requestKey }
          : undefined,
      ticketPassed:
        ticket !== undefined &&
        Boolean(eventFailed) &&
        Number(currentEvent?.waitlistFrontier ?? 0) >= ticket,
    };
  }

  private promoteItem(head: Registration, now: string): TransactItem {
    return this.table.updateItem(registrationKey(head.eventId, head.userId), {
      update: x`SET ${name('status')} = ${'confirmed'}, LSI1SK = ${eventsKeys.confirmedSort(head.registrationId)}, promotedAt = ${now} REMOVE ticket`,
      condition: x`${name('status')} = ${'waitlisted'} AND registrationId = ${head.registrationId}`,
    });
  }

  private transact(items: readonly TransactItem[]) {
    return this.table.transact(items, { onContention: EventsErrors.busy });
  }
}

// ---- mapping -------------------------------------------------------------------------------

/** `SET` actions for the changed fields (their values), the status index, and updatedAt. */
function changeActions(changes: EventChanges, now: string): Fragment {
  const actions = Object.entries(changes)
    .filter(([, value]) => value !== undefined)
    .map(([field, value]) => x`${name(field)} = ${value}`);
  if (changes.status) actions.push(x`GSI1PK = ${`STATUS#${changes.status}`}`);
  actions.push(x`updatedAt = ${now}`);
  return join(actions, ', ');
}

/**
 * Update actions that write the bookkeeping `folded` (see compactWaitlist) over `seen`, starting
 * inside a SET clause: the frontier and the runs, and the removal of exactly the holes `seen`
 * recorded one by one (a hole recorded since stays, for the next fold).
 */
function foldActions(seen: Waitlist, folded: Waitlist): Fragment {
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
function bookkeepingIs(seen: Waitlist): Fragment {
  const runs = seen.runs ?? [];
  return x`waitlistFrontier = ${seen.frontier} AND ${
    runs.length > 0
      ? x`waitlistHoleRuns = ${encodeRuns(runs)}`
      : x`attribute_not_exists(waitlistHoleRuns)`
  }`;
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

function registrationItem(r: NewRegistration, ticket: number | undefined): Item {
  return {
    ...registrationKey(r.eventId, r.userId),
    type: 'registration',
    registrationId: r.registrationId,
    eventId: r.eventId,
    userId: r.userId,
    status: ticket === undefined ? 'confirmed' : 'waitlisted',
    registeredAt: r.registeredAt,
    ...(ticket === undefined ? {} : { ticket }),
    ...(r.requestKey ? { requestKey: r.requestKey } : {}),
    LSI1SK:
      ticket === undefined
        ? eventsKeys.confirmedSort(r.registrationId)
        : eventsKeys.waitlistSort(ticket),
    GSI2PK: `USER#${r.userId}#REGS`,
    GSI2SK: `${r.registeredAt}#${r.eventId}`,
  };
}

function liveEvent(item: Item | undefined): Event | undefined {
  return item && !item.deleting ? toEvent(item) : undefined;
}

function toEvent(item: Item): Event {
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

/**
 * Runs of tickets that left, as one string: `3-5,9,12-40` (a string, so a fold's condition can
 * compare it whole; the same runs always give the same string).
 */
function encodeRuns(runs: readonly TicketRun[]): string {
  return runs.map(([first, last]) => (first === last ? `${first}` : `${first}-${last}`)).join(',');
}

function decodeRuns(encoded: unknown): TicketRun[] {
  if (typeof encoded !== 'string' || encoded === '') return [];
  return encoded.split(',').map((run): TicketRun => {
    const [first, last = first] = run.split('-').map(Number) as [number, number?];
    return [first, last];
  });
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
    ...(item.ticket !== undefined ? { ticket: Number(item.ticket) } : {}),
  };
}
