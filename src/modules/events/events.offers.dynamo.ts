import { name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item } from '../../platform/dynamo/table.js';
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
import type { DueOffer, OfferCommit, OfferRepository } from './events.offers.repository.js';
import { toRegistration } from './events.registrations.dynamo.js';
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

  private read(item: Item): Registration {
    return toRegistration(item, this.tokenOf);
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
      ...offered.flatMap((registration, i) => {
        const head = heads[i] as Registration;
        const deadline = registration.offerExpiresAt as string;
        return [
          this.table.updateItem(registrationKey(head.eventId, head.userId), {
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
              purgeAt: Math.floor(Date.parse(deadline) / 1000) + LOOKUP_KEPT_SECONDS,
            },
            x`attribute_not_exists(PK)`,
          ),
        ];
      }),
      ...announced.map((event) => this.outbox.put(event)),
    ]);
    return outcome.ok;
  }

  async findOffer(offerId: string): Promise<Registration | undefined> {
    const lookup = await this.table.get(offerKey(offerId));
    if (!lookup) return undefined;
    return this.registration(lookup.eventId as string, lookup.userId as string);
  }

  async registration(eventId: string, userId: string): Promise<Registration | undefined> {
    const item = await this.table.get(registrationKey(eventId, userId), { consistent: true });
    return item ? this.read(item) : undefined;
  }

  async accept(offered: Registration, now: string, announced: DomainEvent): Promise<OfferCommit> {
    const tickets = eventsKeys.ticketKeys(offered.eventId, offered.registrationId, now);
    const outcome = await transactOn(this.table, [
      this.table.updateItem(registrationKey(offered.eventId, offered.userId), {
        update: x`SET ${name('status')} = ${'confirmed'}, LSI1SK = ${eventsKeys.confirmedSort(offered.registrationId)}, promotedAt = ${now}, GSI3PK = ${tickets.GSI3PK}, GSI3SK = ${tickets.GSI3SK}, ${nextVersion} REMOVE GSI1PK, GSI1SK, ticket`,
        // Before the deadline, to the millisecond: no sweep that runs late lets a late accept in.
        condition: x`${stillOffered(offered)} AND offerExpiresAt > ${now}`,
      }),
      // The seat was taken when offered: it stops being held, and stays taken.
      this.table.updateItem(eventKey(offered.eventId), {
        update: x`SET updatedAt = ${now}, offeredCount = offeredCount - ${1}`,
        condition: open,
      }),
      this.outbox.put(announced),
    ]);
    return this.outcome(outcome, offered);
  }

  async end(
    offered: Registration,
    outcome: 'declined' | 'expired',
    now: string,
    announced: DomainEvent,
  ): Promise<OfferCommit> {
    const result = await transactOn(this.table, [
      this.endRow(offered, outcome, now),
      this.freeSeats(offered.eventId, 1, now),
      this.outbox.put(announced),
    ]);
    return this.outcome(result, offered);
  }

  async offersOut(eventId: string): Promise<Registration[]> {
    const out: Registration[] = [];
    for await (const items of this.table.queryPages({
      index: eventsKeys.registrationsIndex,
      key: x`PK = ${eventKey(eventId).PK} AND begins_with(LSI1SK, ${'O#'})`,
      consistent: true,
    })) {
      out.push(...items.map((item) => this.read(item)));
    }
    return out;
  }

  async lapseAll(
    due: readonly Registration[],
    now: string,
    announced: readonly DomainEvent[],
  ): Promise<'lapsed' | 'changed' | 'absent'> {
    const [first] = due;
    if (!first) return 'lapsed';
    const result = await transactOn(this.table, [
      this.freeSeats(first.eventId, due.length, now),
      ...due.map((offered) => this.endRow(offered, 'expired', now)),
      ...announced.map((event) => this.outbox.put(event)),
    ]);
    if (result.ok) return 'lapsed';
    return result.reasons[0] === 'ConditionalCheckFailed' ? 'absent' : 'changed';
  }

  /** The row of an offer that ends: declined before its deadline, or expired at or after it. */
  private endRow(offered: Registration, outcome: 'declined' | 'expired', now: string) {
    return this.table.updateItem(registrationKey(offered.eventId, offered.userId), {
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

  /** Seats held by ended offers are free again; the service passes them on next. */
  private freeSeats(eventId: string, count: number, now: string) {
    return this.table.updateItem(eventKey(eventId), {
      update: x`SET updatedAt = ${now}, registeredCount = registeredCount - ${count}, offeredCount = offeredCount - ${count}`,
      condition: live,
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

  private outcome(
    result: Awaited<ReturnType<typeof transactOn>>,
    offered: Registration,
  ): OfferCommit {
    if (result.ok) return { ok: true };
    const [row, event] = result.current;
    const [rowFailed, eventFailed] = result.reasons.map(
      (code) => code === 'ConditionalCheckFailed',
    );
    return {
      ok: false,
      registration: rowFailed ? (row ? this.read(row) : undefined) : offered,
      event: eventFailed ? (liveEvent(event) ?? 'absent') : 'unchanged',
    };
  }
}

/** The row still holds this offer, as read (its version included: the announcement is exact). */
function stillOffered(offered: Registration) {
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
