import { type Fragment, name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item, TransactItem } from '../../platform/dynamo/table.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import {
  countersUnchanged,
  eventsKeys,
  live,
  liveEvent,
  nextVersion,
  open,
  transactOn,
  versionIs,
} from './events.dynamo.js';
import type { Event, Registration } from './events.model.js';
import type {
  DueOffer,
  OfferCommit,
  OfferRepository,
  OfferRow,
  ShardOffers,
} from './events.offers.repository.js';
import { toRegistration } from './events.registrations.dynamo.js';
import { liveShardCounter, shardKeys, shardsOf } from './events.shards.dynamo.js';
import { seatsForHeads, shardOf } from './events.shards.rules.js';
import { afterPromotion } from './events.waitlist.rules.js';

const { event: eventKey, registration: registrationKey, offer: offerKey } = eventsKeys;

/**
 * The expiry index is split over this many gsi1 keys (OFFERS#0…7), so that a burst of offers
 * across events never writes one index partition past its ~1,000 writes/s; the sweep reads all.
 */
const EXPIRY_SHARDS = 8;
/** Token lookups stay this long after the offer's deadline, so a late click answers precisely. */
const LOOKUP_KEPT_SECONDS = 90 * 86_400;

/** The expiry shard of a registration: a stable spread (FNV-1a of its key), not a secret. */
function expiryShard(eventId: string, userId: string): string {
  let hash = 0x811c9dc5;
  for (const char of `${eventId}\u0000${userId}`) {
    hash = Math.imul(hash ^ (char.codePointAt(0) ?? 0), 0x01000193) >>> 0;
  }
  return `OFFERS#${hash % EXPIRY_SHARDS}`;
}

/** Sorts after any id character: `<deadline>#~` bounds every entry due at that deadline. */
const AFTER_IDS = '~';

/**
 * Offers on the events table (key design in events.dynamo.ts): each commit moves the event's
 * counters with the registration rows it changes, under conditions that make the decision it
 * carries still true — an accept only before the deadline, a lapse only after it.
 */
export class DynamoOfferRepository implements OfferRepository {
  constructor(
    private readonly table: DynamoTable,
    private readonly outbox: Outbox,
    private readonly tokenOf: (offerId: string) => string,
  ) {}

  private read(item: Item): OfferRow {
    const registration = toRegistration(item, this.tokenOf);
    return item.shard === undefined ? registration : { ...registration, shard: Number(item.shard) };
  }

  async makeOffers(
    current: Event,
    heads: readonly Registration[],
    offered: readonly Registration[],
    announced: readonly DomainEvent[],
  ): Promise<boolean> {
    const { frontier, passedHoles } = afterPromotion(current.waitlist, heads);
    const count = heads.length;
    const now = offered[0]?.offeredAt ?? new Date().toISOString();
    const outcome = await transactOn(this.table, [
      this.table.updateItem(eventKey(current.eventId), {
        // The seats move from free to held: taken (registeredCount) and offered go up together.
        update: x`SET updatedAt = ${now}, registeredCount = registeredCount + ${count}, offeredCount = if_not_exists(offeredCount, ${0}) + ${count}, waitlistCount = waitlistCount - ${count}, waitlistFrontier = ${frontier}${
          passedHoles.length > 0 ? x` DELETE waitlistHoles ${new Set(passedHoles)}` : x``
        }`,
        // Counters, capacity and settings (the version) as decided on; never move the frontier back.
        condition: x`${countersUnchanged(current)} AND ${open} AND ${versionIs(current.version)} AND waitlistFrontier <= ${frontier}`,
      }),
      ...offered.flatMap((registration, i) =>
        this.offerItems(heads[i] as Registration, registration, undefined),
      ),
      ...announced.map((event) => this.outbox.put(event)),
    ]);
    return outcome.ok;
  }

  /**
   * A sharded event's offers (docs/decisions/sharded-capacity.md, *Transactions*): per shard
   * touched, one net update — seats given (`freeSeats`, `slice`) and heads offered there (taken
   * and offered up, waiting down); each head's row and lookup; the waitlist item's offers out and
   * frontier, under `offeredCount` as read: the batch's cap, exact across the shards.
   */
  async makeShardOffers(
    { view, heads, frontier, passedHoles }: ShardOffers,
    offered: readonly Registration[],
    announced: readonly DomainEvent[],
  ): Promise<boolean> {
    const { eventId, version } = view.event;
    const headShards = heads.map((head) => shardOf(head.registrationId));
    const seats = seatsForHeads(view.shards, headShards);
    if (!seats) return false;
    const now = offered[0]?.offeredAt ?? new Date().toISOString();
    const items: TransactItem[] = seats.map(({ shard, take, hold }) => {
      // Open, and the settings the deadline and batch were decided on (each shard mirrors them).
      const condition = x`${open} AND settingsVersion = ${version}`;
      return this.table.updateItem(shardKeys.counter(eventId, shard), {
        update: x`SET freeSeats = freeSeats - ${take}, slice = slice + ${hold - take}, registeredCount = registeredCount + ${hold}, offeredCount = offeredCount + ${hold}, waitlistCount = waitlistCount - ${hold}, updatedAt = ${now}`,
        condition: take > 0 ? x`${condition} AND freeSeats >= ${take}` : condition,
      });
    });
    items.push(
      ...offered.flatMap((registration, i) =>
        this.offerItems(heads[i] as Registration, registration, headShards[i]),
      ),
      this.table.updateItem(shardKeys.waitlist(eventId), {
        update: x`SET offeredCount = offeredCount + ${heads.length}, waitlistFrontier = ${frontier}${
          passedHoles.length > 0 ? x` DELETE waitlistHoles ${new Set(passedHoles)}` : x``
        }`,
        condition: x`offeredCount = ${view.event.offeredCount} AND waitlistFrontier <= ${frontier}`,
      }),
      ...announced.map((event) => this.outbox.put(event)),
    );
    return (await transactOn(this.table, items)).ok;
  }

  /** A head's row offered (still waiting as read), and its token's lookup. */
  private offerItems(head: Registration, registration: Registration, shard: number | undefined) {
    const deadline = registration.offerExpiresAt as string;
    return [
      this.table.updateItem(this.rowKey({ ...head, shard }), {
        update: x`SET ${name('status')} = ${'offered'}, LSI1SK = ${eventsKeys.offeredSort(head.ticket ?? 0)}, offerId = ${registration.offerId}, offeredAt = ${registration.offeredAt}, offerExpiresAt = ${deadline}, GSI1PK = ${expiryShard(head.eventId, head.userId)}, GSI1SK = ${`${deadline}#${head.eventId}#${head.userId}`}, ${nextVersion}`,
        condition: x`${name('status')} = ${'waitlisted'} AND registrationId = ${head.registrationId} AND ${versionIs(head.version)}`,
      }),
      this.table.put(
        {
          ...offerKey(registration.offerId as string),
          type: 'offer',
          eventId: head.eventId,
          userId: head.userId,
          registrationId: head.registrationId,
          ...(shard === undefined ? {} : { shard }),
          purgeAt: Math.floor(Date.parse(deadline) / 1000) + LOOKUP_KEPT_SECONDS,
        },
        x`attribute_not_exists(PK)`,
      ),
    ];
  }

  /** Where a row is: its event's partition, or a sharded event's shard. */
  private rowKey({ eventId, userId, shard }: Pick<OfferRow, 'eventId' | 'userId' | 'shard'>) {
    return shard === undefined
      ? registrationKey(eventId, userId)
      : shardKeys.registration(eventId, shard, userId);
  }

  async findOffer(offerId: string): Promise<OfferRow | undefined> {
    const lookup = await this.table.get(offerKey(offerId));
    if (!lookup) return undefined;
    const row = await this.table.get(
      this.rowKey({
        eventId: lookup.eventId as string,
        userId: lookup.userId as string,
        shard: lookup.shard === undefined ? undefined : Number(lookup.shard),
      }),
      { consistent: true },
    );
    return row ? this.read(row) : undefined;
  }

  async registration(eventId: string, userId: string): Promise<OfferRow | undefined> {
    const item = await this.table.get(registrationKey(eventId, userId), { consistent: true });
    if (item) return this.read(item);
    // A sharded event's row is where the user's guard says (an ended one's too).
    const guard = await this.table.get(shardKeys.guard(userId, eventId), { consistent: true });
    if (!guard) return undefined;
    const row = await this.table.get(shardKeys.registration(eventId, Number(guard.shard), userId), {
      consistent: true,
    });
    return row && row.registrationId === guard.registrationId ? this.read(row) : undefined;
  }

  async accept(offered: OfferRow, now: string, announced: DomainEvent): Promise<OfferCommit> {
    const { eventId, registrationId, shard } = offered;
    const tickets =
      shard === undefined
        ? eventsKeys.ticketKeys(eventId, registrationId, now)
        : shardKeys.ticketKeys(eventId, shard, registrationId, now);
    const row = this.table.updateItem(this.rowKey(offered), {
      update: x`SET ${name('status')} = ${'confirmed'}, LSI1SK = ${eventsKeys.confirmedSort(registrationId)}, promotedAt = ${now}, GSI3PK = ${tickets.GSI3PK}, GSI3SK = ${tickets.GSI3SK}, ${nextVersion} REMOVE GSI1PK, GSI1SK, ticket`,
      // Before the deadline, to the millisecond: no sweep that runs late lets a late accept in.
      condition: x`${stillOffered(offered)} AND offerExpiresAt > ${now}`,
    });
    // The seat was taken when offered: it stops being held, and stays taken.
    const held = x`offeredCount = offeredCount - ${1}`;
    const outcome = await transactOn(this.table, [
      row,
      ...(shard === undefined
        ? [
            this.table.updateItem(eventKey(eventId), {
              update: x`SET updatedAt = ${now}, ${held}`,
              condition: open,
            }),
          ]
        : [
            this.table.updateItem(shardKeys.counter(eventId, shard), {
              update: x`SET updatedAt = ${now}, ${held}`,
              condition: open,
            }),
            this.waitlistOffers(eventId, -1),
          ]),
      this.outbox.put(announced),
    ]);
    return this.outcome(outcome, offered);
  }

  async end(
    offered: OfferRow,
    outcome: 'declined' | 'expired',
    now: string,
    announced: DomainEvent,
  ): Promise<OfferCommit> {
    const result = await transactOn(this.table, [
      this.endRow(offered, outcome, now),
      ...this.freeSeats([offered], now),
      this.outbox.put(announced),
    ]);
    return this.outcome(result, offered);
  }

  async offersOut(eventId: string): Promise<OfferRow[]> {
    const out = await this.offeredIn(eventKey(eventId).PK);
    if (out.length > 0) return out;
    // None in the event's own partition: a sharded event keeps them in its shards'.
    const event = await this.table.get(eventKey(eventId), { consistent: true });
    if (!event || shardsOf(event) === 1) return out;
    for (let shard = 0; shard < shardsOf(event); shard++) {
      out.push(...(await this.offeredIn(shardKeys.counter(eventId, shard).PK)));
    }
    return out;
  }

  private async offeredIn(partition: string): Promise<OfferRow[]> {
    const out: OfferRow[] = [];
    for await (const items of this.table.queryPages({
      index: eventsKeys.registrationsIndex,
      key: x`PK = ${partition} AND begins_with(LSI1SK, ${'O#'})`,
      consistent: true,
    })) {
      out.push(...items.map((item) => this.read(item)));
    }
    return out;
  }

  async lapseAll(
    due: readonly OfferRow[],
    now: string,
    announced: readonly DomainEvent[],
  ): Promise<'lapsed' | 'changed' | 'absent'> {
    if (due.length === 0) return 'lapsed';
    // The counters first: the first one's condition failing says the event is gone or going.
    const result = await transactOn(this.table, [
      ...this.freeSeats(due, now),
      ...due.map((offered) => this.endRow(offered, 'expired', now)),
      ...announced.map((event) => this.outbox.put(event)),
    ]);
    if (result.ok) return 'lapsed';
    return result.reasons[0] === 'ConditionalCheckFailed' ? 'absent' : 'changed';
  }

  /** The row of an offer that ends: declined before its deadline, or expired at or after it. */
  private endRow(offered: OfferRow, outcome: 'declined' | 'expired', now: string) {
    return this.table.updateItem(this.rowKey(offered), {
      update: x`SET ${name('status')} = ${outcome}, LSI1SK = ${eventsKeys.endedSort(offered.registrationId)}, ${
        outcome === 'declined' ? x`declinedAt = ${now}, ` : x``
      }${nextVersion} REMOVE GSI1PK, GSI1SK, ticket`,
      // A lapse only once the deadline has passed (a decline any time before).
      condition:
        outcome === 'expired'
          ? x`${stillOffered(offered)} AND offerExpiresAt <= ${now}`
          : x`${stillOffered(offered)} AND offerExpiresAt > ${now}`,
    });
  }

  /**
   * Seats held by ended offers (of one event) are free again; the service passes them on next.
   * The event item's counters; a sharded event's: each shard's (the seat free there), its
   * waitlist item's offers out, and each user's guard marked ended (they may register again, in
   * the same shard, whose ended row the new one replaces). The counter updates come first.
   */
  private freeSeats(ended: readonly OfferRow[], now: string): TransactItem[] {
    const [first] = ended;
    if (!first) return [];
    const { eventId } = first;
    const freed = (count: number, more: Fragment = x``) =>
      x`SET updatedAt = ${now}, registeredCount = registeredCount - ${count}, offeredCount = offeredCount - ${count}${more}`;
    if (first.shard === undefined) {
      return [
        this.table.updateItem(eventKey(eventId), { update: freed(ended.length), condition: live }),
      ];
    }
    const perShard = new Map<number, number>();
    for (const { shard } of ended)
      perShard.set(shard as number, (perShard.get(shard as number) ?? 0) + 1);
    return [
      ...[...perShard].map(([shard, count]) =>
        this.table.updateItem(shardKeys.counter(eventId, shard), {
          update: freed(count, x`, freeSeats = freeSeats + ${count}`),
          condition: live,
        }),
      ),
      this.waitlistOffers(eventId, -ended.length),
      ...ended.map(({ userId, registrationId }) =>
        this.table.updateItem(shardKeys.guard(userId, eventId), {
          update: x`SET ended = ${true}`,
          condition: x`registrationId = ${registrationId}`,
        }),
      ),
    ];
  }

  /** A sharded event's offers out, on its waitlist item (what the batch is capped by). */
  private waitlistOffers(eventId: string, by: number) {
    return this.table.updateItem(shardKeys.waitlist(eventId), {
      update: x`SET offeredCount = offeredCount + ${by}`,
      condition: x`attribute_exists(PK)`,
    });
  }

  async *dueOffers(before: string, pageSize: number): AsyncIterable<DueOffer[]> {
    for (let shard = 0; shard < EXPIRY_SHARDS; shard++) {
      for await (const items of this.table.queryPages(
        {
          index: eventsKeys.byStatusIndex,
          key: x`GSI1PK = ${`OFFERS#${shard}`} AND GSI1SK <= ${`${before}#${AFTER_IDS}`}`,
        },
        pageSize,
      )) {
        yield items.map(dueOffer);
      }
    }
  }

  async *pendingOffers(): AsyncIterable<DueOffer[]> {
    for (let shard = 0; shard < EXPIRY_SHARDS; shard++) {
      for await (const items of this.table.queryPages({
        index: eventsKeys.byStatusIndex,
        key: x`GSI1PK = ${`OFFERS#${shard}`}`,
      })) {
        yield items.map(dueOffer);
      }
    }
  }

  private async outcome(
    result: Awaited<ReturnType<typeof transactOn>>,
    offered: OfferRow,
  ): Promise<OfferCommit> {
    if (result.ok) return { ok: true };
    const [row, counter] = result.current;
    const [rowFailed, counterFailed] = result.reasons.map(
      (code) => code === 'ConditionalCheckFailed',
    );
    let event: Event | 'absent' | 'unchanged' = 'unchanged';
    if (counterFailed) {
      // A sharded event's shard mirrors its status: the event item says which it is.
      const item =
        offered.shard === undefined || !liveShardCounter(counter)
          ? counter
          : await this.table.get(eventKey(offered.eventId));
      event = liveEvent(item) ?? 'absent';
    }
    return {
      ok: false,
      registration: rowFailed ? (row ? this.read(row) : undefined) : offered,
      event,
    };
  }
}

/** The row still holds this offer, as read (its version included: the announcement is exact). */
function stillOffered(offered: OfferRow) {
  return x`${name('status')} = ${'offered'} AND offerId = ${offered.offerId} AND ${versionIs(offered.version)}`;
}

function dueOffer(item: Item): DueOffer {
  return {
    eventId: item.eventId as string,
    userId: item.userId as string,
    offerId: item.offerId as string,
    offerExpiresAt: item.offerExpiresAt as string,
  };
}
