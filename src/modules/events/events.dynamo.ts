import { and, type Fragment, join, list, name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item, TransactItem } from '../../platform/dynamo/table.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import { EventsErrors } from './events.errors.js';
import {
  type Admission,
  type Created,
  type Event,
  type EventChanges,
  type EventListFilter,
  OFFER_DEFAULTS,
  openStatuses,
  type Registration,
  type RequestKey,
  type Waitlist,
  type Written,
} from './events.model.js';
import { queueConfigChange, queueConfigPut, queueItemKeys } from './events.queue.dynamo.js';
import { eventsTable } from './events.resources.js';

export { eventsTable };

import type {
  DeletionTarget,
  EventRepository,
  PromotionAnnouncements,
} from './events.repository.js';
import {
  changedSettings,
  newShardItems,
  shardChangeItems,
  shardedView,
  shardKeys,
  shardPartitions,
  shardReadKeys,
  shardsOf,
  toWaitlist,
  userOfRow,
} from './events.shards.dynamo.js';
import type { ShardedView } from './events.shards.rules.js';
import { afterPromotion, encodeRuns, waitlistAfter } from './events.waitlist.rules.js';

/*
 * Key design:
 *   event         PK=EVENT#<eventId>  SK=EVENT         GSI1PK=STATUS#<status>, GSI2PK=EVENTS
 *   user          PK=USER#<userId>    SK=USER          GSI2PK=USERS
 *   registration  PK=EVENT#<eventId>  SK=REG#<userId>  GSI2PK=USER#<userId>#REGS
 *                 LSI1SK=C#<registrationId> (confirmed) | W#<ticket, 12 digits> (waitlisted)
 *   offer token   PK=OFFER#<offerId>  SK=OFFER         eventId, userId (what a token names), purgeAt
 * The event item holds registeredCount and waitlistCount and the waitlist bookkeeping; every
 * transaction that adds, removes or promotes a registration moves them in the same
 * TransactWriteItems, under conditions on the event item, so the counters always equal the rows
 * and capacity holds. An event being deleted keeps its item, marked `deleting` (GSI1PK=DELETING,
 * out of GSI2), until its registrations are gone: every condition below requires it unmarked.
 *
 * Offers (events.offers.dynamo.ts): the stored `registeredCount` counts the seats taken — confirmed
 * and held by offers, `offeredCount` of them — so that `registeredCount < capacity` stays the one
 * capacity condition whatever holds the seats; the API's registeredCount is the confirmed ones
 * (toEvent subtracts). An offered registration row is in gsi1 under OFFERS#<shard> by deadline
 * (the sparse expiry index the sweep reads; registration rows are otherwise not in gsi1).
 *
 * Every change announced as a domain event (platform/outbox) puts it in the change's own
 * transaction (`outbox.put`), and moves the changed item's `version` under the condition that it
 * is still the one read: the event's sequence is that version, so it is exact, and two changes
 * racing each other never announce the same one (the loser's condition fails; it decides again).
 */

/** Keys and index names, exported for the benchmark's raw-transaction baseline. */
export const eventsKeys = {
  event: (eventId: string) => ({ PK: `EVENT#${eventId}`, SK: 'EVENT' }),
  user: (userId: string) => ({ PK: `USER#${userId}`, SK: 'USER' }),
  registration: (eventId: string, userId: string) => ({
    PK: `EVENT#${eventId}`,
    SK: `REG#${userId}`,
  }),
  offer: (offerId: string) => ({ PK: `OFFER#${offerId}`, SK: 'OFFER' }),
  revoked: (eventId: string, registrationId: string) => ({
    PK: `EVENT#${eventId}`,
    SK: `REVOKED#${registrationId}`,
  }),
  /** A confirmed registration row's place in its event's ticket index (gsi3). */
  ticketKeys: (eventId: string, registrationId: string, confirmedAt: string) => ({
    GSI3PK: `TICKETS#${eventId}`,
    GSI3SK: `${confirmedAt}#${registrationId}`,
  }),
  confirmedSort: (registrationId: string) => `C#${registrationId}`,
  /** Offered rows list after the confirmed, before the waitlist, in the order they waited. */
  offeredSort: (ticket: number) => `O#${String(ticket).padStart(12, '0')}`,
  waitlistSort: (ticket: number) => `W#${String(ticket).padStart(12, '0')}`,
  /** Offers that ended without a seat list last. */
  endedSort: (registrationId: string) => `X#${registrationId}`,
  byStatusIndex: eventsTable.globalIndexes[0].indexName,
  collectionsIndex: eventsTable.globalIndexes[1].indexName,
  registrationsIndex: eventsTable.localIndexes[0].indexName,
  ticketsIndex: eventsTable.globalIndexes[2].indexName,
} as const;

const { event: eventKey } = eventsKeys;
const DELETING = 'DELETING';

/**
 * Events from their items: a sharded one summed from its counters and waitlist item, read for
 * every sharded event among them in one strongly consistent batch. The sums are not a snapshot:
 * each counter is exact when read.
 */
export async function viewsOf(table: DynamoTable, items: readonly Item[]): Promise<ShardedView[]> {
  const keys = shardReadKeys(items);
  const found = new Map(
    (keys.length > 0 ? await table.batchGet(keys) : []).map((item) => [String(item.PK), item]),
  );
  return items.map((item) => {
    const event = toEvent(item);
    return shardsOf(item) > 1 ? shardedView(event, found) : { event, soldOut: false, shards: [] };
  });
}

/**
 * The version of an event or registration item the previous release wrote, which stored none:
 * its creation (that release announced nothing, so nobody holds a higher one). The first change
 * this release makes to it writes 2 and announces sequence 2.
 */
const UNVERSIONED = 1;

/** The item's version is still `version` (an item without one counts as UNVERSIONED). */
export function versionIs(version: number): Fragment {
  const stored = name('version');
  return version === UNVERSIONED
    ? x`(${stored} = ${version} OR attribute_not_exists(${stored}))`
    : x`${stored} = ${version}`;
}

/** A SET action moving the version one on (from UNVERSIONED on an item that stores none). */
export const nextVersion = x`${name('version')} = if_not_exists(${name('version')}, ${UNVERSIONED}) + ${1}`;

export const versionOf = (item: Item): number => Number(item.version ?? UNVERSIONED);

/** The event exists and is not being deleted. */
export const live = x`attribute_exists(PK) AND attribute_not_exists(deleting)`;
/** …and takes registrations (rule 6). */
export const open = x`${live} AND ${name('status')} IN (${list(openStatuses)})`;

/** Every event, oldest first: the collection index holds them all under one key. */
const everyEvent = { index: eventsKeys.collectionsIndex, key: x`GSI2PK = ${'EVENTS'}` };

export class DynamoEventRepository implements EventRepository {
  constructor(
    private readonly table: DynamoTable,
    private readonly outbox: Outbox,
  ) {}

  async createEvent(
    event: Event,
    requestKey: RequestKey,
    created: DomainEvent,
  ): Promise<Created<Event>> {
    const shards = shardsOf(event);
    // A sharded event's counters and waitlist item are put with it (N + 3 items, ≤ 35 of 100).
    const outcome = await transactOn(this.table, [
      this.table.put(eventItem(event, requestKey), x`attribute_not_exists(PK)`),
      ...(shards > 1 ? newShardItems(event, shards).map((item) => this.table.put(item)) : []),
      ...queueConfigPut(this.table, event),
      this.outbox.put(created),
    ]);
    if (outcome.ok) return { created: true };
    const [existing] = outcome.current;
    return {
      created: false,
      existing: existing && !existing.deleting ? toEvent(existing) : undefined,
      requestKey: existing?.requestKey,
      beingDeleted: Boolean(existing?.deleting),
    };
  }

  async getEvent(eventId: string): Promise<Event | undefined> {
    return (await this.shardedView(eventId))?.event;
  }

  async shardedView(eventId: string): Promise<ShardedView | undefined> {
    const item = await this.table.get(eventKey(eventId));
    if (!item || item.deleting) return undefined;
    const [view] = await this.viewsOf([item]);
    return view;
  }

  private viewsOf(items: readonly Item[]): Promise<ShardedView[]> {
    return viewsOf(this.table, items);
  }

  private async eventsOf(items: readonly Item[]): Promise<Event[]> {
    return (await this.viewsOf(items)).map((view) => view.event);
  }

  async listEvents(filter: EventListFilter, page: PageRequest): Promise<Page<Event>> {
    const spec = filter.status
      ? { index: eventsKeys.byStatusIndex, key: x`GSI1PK = ${`STATUS#${filter.status}`}` }
      : everyEvent;
    const newest = filter.order === 'newest';
    // A cursor names its order: one of the other order is refused, not read from the wrong end.
    const scope = `events:${filter.status ?? '*'}${newest ? ':newest' : ''}`;
    const read = await this.table.queryPage(
      scope,
      { ...spec, forward: !newest },
      page,
      (item) => item,
    );
    return { items: await this.eventsOf(read.items), nextCursor: read.nextCursor };
  }

  async *allEvents(): AsyncIterable<Event[]> {
    for await (const items of this.table.queryPages(everyEvent)) {
      yield this.eventsOf(items);
    }
  }

  async *newestEvents(pageSize: number): AsyncIterable<Event[]> {
    for await (const items of this.table.queryPages({ ...everyEvent, forward: false }, pageSize)) {
      yield this.eventsOf(items);
    }
  }

  async changeEvent(
    current: Event,
    changes: EventChanges,
    now: string,
    announced: DomainEvent,
  ): Promise<Written<Event> & { current?: Event | undefined }> {
    // The event is still as read — its fields (the version), its counters and capacity — so the
    // rules' decision on it holds (rule 1: capacity not below the confirmed count; rule 4: no free
    // seat while anyone waits) and `announced` carries the event exactly as committed.
    const outcome = await transactOn(this.table, [
      this.table.updateItem(eventKey(current.eventId), {
        update: x`SET ${changeActions(changes, now)}, ${nextVersion}`,
        condition: x`${countersUnchanged(current)} AND ${versionIs(current.version)}`,
      }),
      ...queueConfigChange(this.table, current, changes),
      this.outbox.put(announced),
    ]);
    if (outcome.ok) {
      return {
        ok: true,
        value: { ...current, ...changes, updatedAt: now, version: current.version + 1 },
      };
    }
    return { ok: false, current: liveEvent(outcome.current[0]) };
  }

  async changeShardedEvent(
    view: ShardedView,
    changes: EventChanges,
    deltas: readonly number[],
    now: string,
    announced: DomainEvent,
  ): Promise<Written<Event>> {
    // The event's fields as read (its version) and its capacity; each shard keeps the seats a cut
    // takes from it free. The counters are not pinned: registrations move them all the time, and
    // none of them writes a field this change decides on.
    const { event: current } = view;
    const next = changedSettings(current, changes);
    const outcome = await transactOn(this.table, [
      this.table.updateItem(eventKey(current.eventId), {
        update: x`SET ${changeActions(changes, now)}, ${nextVersion}`,
        condition: x`${live} AND ${versionIs(current.version)} AND ${name('capacity')} = ${current.capacity}`,
      }),
      ...shardChangeItems(this.table, view, next, deltas, now, live),
      ...queueConfigChange(this.table, current, changes),
      this.outbox.put(announced),
    ]);
    if (!outcome.ok) return { ok: false };
    return {
      ok: true,
      value: { ...current, ...changes, updatedAt: now, version: next.version },
    };
  }

  changeEventAndPromote(
    current: Event,
    changes: EventChanges,
    heads: readonly Registration[],
    now: string,
    announced: PromotionAnnouncements,
  ): Promise<Written<Event>> {
    return commitPromotion(this.table, this.outbox, { current, changes, heads, now, announced });
  }

  async findForDeletion(eventId: string): Promise<DeletionTarget> {
    const item = await this.table.get(eventKey(eventId));
    if (!item || item.deleting) return deletionTarget(item);
    const [view] = await this.viewsOf([item]);
    return view?.event ?? 'absent';
  }

  async markDeleted(
    current: Event,
    now: string,
    deleted: DomainEvent,
  ): Promise<{ ok: true } | { ok: false; current: DeletionTarget }> {
    const shards = shardsOf(current);
    const mark = x`SET deleting = ${now}, GSI1PK = ${DELETING}, ${nextVersion} REMOVE GSI2PK, GSI2SK`;
    if (shards > 1) {
      // Every shard marked with the event, so that every registration's condition refuses it.
      // `deleted` carries the sums read just before: pinning N busy counters would make a
      // deletion during a rush a 503.
      const outcome = await transactOn(this.table, [
        this.table.updateItem(eventKey(current.eventId), {
          update: mark,
          condition: x`${live} AND ${versionIs(current.version)}`,
        }),
        ...Array.from({ length: shards }, (_, i) =>
          this.table.updateItem(shardKeys.counter(current.eventId, i), {
            update: x`SET deleting = ${now}`,
            condition: x`attribute_exists(PK)`,
          }),
        ),
        this.outbox.put(deleted),
      ]);
      return outcome.ok
        ? { ok: true }
        : { ok: false, current: await this.findForDeletion(current.eventId) };
    }
    // Unchanged since read, counters included, so that `deleted` carries the event as it was.
    const outcome = await transactOn(this.table, [
      this.table.updateItem(eventKey(current.eventId), {
        update: mark,
        condition: x`${countersUnchanged(current)} AND ${versionIs(current.version)}`,
      }),
      this.outbox.put(deleted),
    ]);
    return outcome.ok ? { ok: true } : { ok: false, current: deletionTarget(outcome.current[0]) };
  }

  async finishDeletion(eventId: string): Promise<number> {
    let removed = 0;
    const marked = await this.table.get(eventKey(eventId));
    const shards = marked ? shardsOf(marked) : 1;
    // A sharded event's own partitions first (its shards' rows and counters, its waitlist item),
    // then everything in `EVENT#<id>`: registrations, and their check-ins, answers and
    // revocations.
    const partitions = [
      ...(shards > 1 ? shardPartitions(eventId, shards) : []),
      eventKey(eventId).PK,
    ];
    for (const partition of partitions) {
      for await (const items of this.table.queryPages({
        key: x`PK = ${partition}`,
        consistent: true,
        attributes: ['PK', 'SK'],
      })) {
        const owned = items.filter((item) => item.SK !== 'EVENT');
        const rows = owned.filter((item) => String(item.SK).startsWith('REG#'));
        if (shards > 1 && partition !== eventKey(eventId).PK && rows.length > 0) {
          // A sharded row's guard, in its user's partition, is found only through the row: the
          // guards go first, so that a crash in between leaves rows to find them by again.
          await this.table.batchDelete(
            rows.map((row) => shardKeys.guard(userOfRow(String(row.SK)), eventId)),
          );
        }
        if (owned.length > 0) {
          await this.table.batchDelete(owned.map((item) => ({ PK: item.PK, SK: item.SK })));
        }
        removed += rows.length;
      }
    }
    // Its waiting room's config and counters (the users' places void themselves: see putEntry).
    if (marked?.admission) await this.table.batchDelete(queueItemKeys(eventId));
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

/** Heads promoted into free seats, with a change of the event (`{}`: none) and announcements. */
export interface Promotion {
  readonly current: Event;
  readonly changes: EventChanges;
  readonly heads: readonly Registration[];
  readonly now: string;
  /**
   * Each head's promotion and, when `changes` is a change of the event's own (an update, which
   * moves its version), that change: committed in the same transaction.
   */
  readonly announced: PromotionAnnouncements;
}

/**
 * Promotes `heads` into free seats, applying `changes` to the event in the same transaction,
 * provided the counters and capacity (and, with a change announced, the version) are still those
 * of `current`; answers the event as committed. One transaction holds the event, each head and
 * each announcement: at most 1 + 2 × 49 + 1 items (DynamoDB takes 100).
 */
export async function commitPromotion(
  table: DynamoTable,
  outbox: Outbox,
  { current, changes, heads, now, announced }: Promotion,
): Promise<Written<Event>> {
  const { frontier, passedHoles: passed } = afterPromotion(current.waitlist, heads);
  const versioned = announced.event !== undefined;
  const outcome = await transactOn(table, [
    table.updateItem(eventKey(current.eventId), {
      update: join(
        [
          x`SET ${changeActions(changes, now)}`,
          ...(versioned ? [x`, ${nextVersion}`] : []),
          x`, registeredCount = registeredCount + ${heads.length}`,
          x`, waitlistCount = waitlistCount - ${heads.length}, waitlistFrontier = ${frontier}`,
          ...(passed.length > 0 ? [x` DELETE waitlistHoles ${new Set(passed)}`] : []),
        ],
        '',
      ),
      // Never move the frontier back (a fold may have moved it over holes in between).
      condition: and(
        x`${countersUnchanged(current)} AND waitlistFrontier <= ${frontier}`,
        versioned ? versionIs(current.version) : undefined,
      ),
    }),
    ...heads.map((head) => promoteItem(table, head, now)),
    ...queueConfigChange(table, current, changes),
    ...announced.promoted.map((event) => outbox.put(event)),
    ...(announced.event ? [outbox.put(announced.event)] : []),
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
      version: current.version + (versioned ? 1 : 0),
    },
  };
}

/**
 * A waiting registration confirmed, provided it still waits under the same registration and
 * version (so its promotion's sequence is exact).
 */
export function promoteItem(
  table: DynamoTable,
  head: Registration,
  now: string,
  shard?: number,
): TransactItem {
  // A sharded event's head: its row and its ticket index key are its shard's.
  const [key, tickets] =
    shard === undefined
      ? [
          eventsKeys.registration(head.eventId, head.userId),
          eventsKeys.ticketKeys(head.eventId, head.registrationId, now),
        ]
      : [
          shardKeys.registration(head.eventId, shard, head.userId),
          shardKeys.ticketKeys(head.eventId, shard, head.registrationId, now),
        ];
  return table.updateItem(key, {
    update: x`SET ${name('status')} = ${'confirmed'}, LSI1SK = ${eventsKeys.confirmedSort(head.registrationId)}, promotedAt = ${now}, GSI3PK = ${tickets.GSI3PK}, GSI3SK = ${tickets.GSI3SK}, ${nextVersion} REMOVE ticket`,
    condition: x`${name('status')} = ${'waitlisted'} AND registrationId = ${head.registrationId} AND ${versionIs(head.version)}`,
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

export function countersUnchanged(current: Event): Fragment {
  return x`${live} AND registeredCount = ${current.registeredCount + current.offeredCount} AND waitlistCount = ${current.waitlistCount} AND ${name('capacity')} = ${current.capacity} AND ${offeredIs(current.offeredCount)}`;
}

/** The event holds `count` offers (an item of the previous release holds none, and no count). */
export function offeredIs(count: number): Fragment {
  return count === 0
    ? x`(attribute_not_exists(offeredCount) OR offeredCount = ${0})`
    : x`offeredCount = ${count}`;
}

/** The event as stored (exported for the tests that weigh it). */
export function eventItem(event: Event, requestKey: RequestKey): Item {
  const { waitlist, shards, ...fields } = event;
  const runs = waitlist.runs ?? [];
  const keys = {
    ...(requestKey ? { requestKey } : {}),
    GSI1PK: `STATUS#${event.status}`,
    GSI1SK: `${event.createdAt}#${event.eventId}`,
    GSI2PK: 'EVENTS',
    GSI2SK: `${event.createdAt}#${event.eventId}`,
  };
  if (shards !== undefined && shards > 1) {
    // The settings only: its counters are on its shards, its bookkeeping on its waitlist item.
    const { registeredCount: _, waitlistCount: __, offeredCount: ___, ...settings } = fields;
    return { ...eventKey(event.eventId), type: 'event', ...settings, shards, ...keys };
  }
  return {
    ...eventKey(event.eventId),
    type: 'event',
    ...fields,
    // Seats taken: confirmed and held (see the key design above).
    registeredCount: event.registeredCount + event.offeredCount,
    waitlistIssued: waitlist.issued,
    waitlistFrontier: waitlist.frontier,
    ...(waitlist.holes.length > 0 ? { waitlistHoles: new Set(waitlist.holes) } : {}),
    ...(runs.length > 0 ? { waitlistHoleRuns: encodeRuns(runs) } : {}),
    ...keys,
  };
}

export function liveEvent(item: Item | undefined): Event | undefined {
  return item && !item.deleting ? toEvent(item) : undefined;
}

function deletionTarget(item: Item | undefined): DeletionTarget {
  if (!item) return 'absent';
  return item.deleting ? 'being-deleted' : toEvent(item);
}

export function toEvent(item: Item): Event {
  const offered = Number(item.offeredCount ?? 0);
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
    promotion: item.promotion ?? OFFER_DEFAULTS.promotion,
    offerWindowSeconds: Number(item.offerWindowSeconds ?? OFFER_DEFAULTS.offerWindowSeconds),
    offersCloseBefore: Number(item.offersCloseBefore ?? OFFER_DEFAULTS.offersCloseBefore),
    offerBatch: Number(item.offerBatch ?? OFFER_DEFAULTS.offerBatch),
    // A sharded event's item holds no counters: they are summed from its shards (shardedView).
    registeredCount: Number(item.registeredCount ?? 0) - offered,
    waitlistCount: Number(item.waitlistCount ?? 0),
    offeredCount: offered,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
    waitlist: toWaitlist(item),
    version: versionOf(item),
    ...(item.shards === undefined ? {} : { shards: Number(item.shards) }),
    ...(item.admission === undefined ? {} : { admission: toAdmission(item.admission) }),
  };
}

function toAdmission(stored: Item): Admission {
  return {
    enabled: Boolean(stored.enabled),
    ratePerSecond: Number(stored.ratePerSecond),
    tokenSeconds: Number(stored.tokenSeconds),
    anchorAt: Number(stored.anchorAt),
    anchorAdmitted: Number(stored.anchorAdmitted),
  };
}
