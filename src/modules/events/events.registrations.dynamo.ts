import { isDependencyUnavailable } from '../../platform/dynamo/errors.js';
import { and, type Fragment, list, name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item, TransactItem } from '../../platform/dynamo/table.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import {
  bookkeepingIs,
  commitPromotion,
  eventsKeys,
  foldActions,
  live,
  liveEvent,
  open,
  promoteItem,
  toEvent,
  transactOn,
  versionIs,
  versionOf,
  viewsOf,
} from './events.dynamo.js';
import {
  type Event,
  endedStatuses,
  type Registration,
  type RegistrationStatus,
  type ShardCounter,
  type Waitlist,
} from './events.model.js';
import type {
  EventShards,
  FoundRegistration,
  NewRegistration,
  Rebalanced,
  RegistrationCommit,
  RegistrationFacts,
  RegistrationRepository,
  RegistrationWithName,
  ShardCommit,
  ShardPromotion,
  ShardTarget,
  UnregisterPlan,
} from './events.registrations.repository.js';
import {
  liveShardCounter,
  shardKeys,
  shardsOf,
  toTicketBlock,
  toWaitlist,
} from './events.shards.dynamo.js';
import {
  shardedRegistrationRows,
  shardedRegistrationsPage,
  shardedWaitingTickets,
  shardedWaitlistHeads,
} from './events.shards.readers.dynamo.js';
import {
  allocatedBlock,
  BLOCK_LIFETIME_MS,
  blockTail,
  nextBlockSize,
  type SeatMove,
  seatsForHeads,
  shardOf,
  type TicketBlock,
} from './events.shards.rules.js';

const { event: eventKey, user: userKey, registration: registrationKey } = eventsKeys;

/** A join that keeps losing its shard's block to others' new blocks answers busy after this. */
const BLOCK_ATTEMPTS = 8;
/** Flipping a sharded event's latch is leased to one request at a time for this long. */
const LATCH_LEASE_MS = 1000;

/** A plan that does not fit the registration it names (a waiting one's seat, say): a bug. */
function unsupported(plan: UnregisterPlan): never {
  throw new Error(`a sharded registration can't ${plan.kind} (${plan.registration.status})`);
}

/**
 * Registrations and the waitlist on the events table (key design in events.dynamo.ts): every
 * transaction that adds, removes or promotes a registration moves the event's counters with it,
 * under conditions on the event item.
 */
export class DynamoRegistrationRepository implements RegistrationRepository {
  constructor(
    private readonly table: DynamoTable,
    private readonly outbox: Outbox,
    private readonly tokenOf?: (offerId: string) => string,
    /** How long a sharded event's ticket block is used (the `ticketBlockMs` setting). */
    private readonly ticketBlockMs: number = BLOCK_LIFETIME_MS,
  ) {}

  private toRegistration = (item: Item): Registration => toRegistration(item, this.tokenOf);

  async getRegistration(eventId: string, userId: string): Promise<FoundRegistration | undefined> {
    // The row where an unsharded event keeps it, and the guard a sharded one's leaves in the
    // user's partition, in one read: an event's shards are not known without reading it.
    const [rowKey, guardKey] = [registrationKey(eventId, userId), shardKeys.guard(userId, eventId)];
    const items = await this.table.batchGet([rowKey, guardKey]);
    const find = ({ PK, SK }: { PK: string; SK: string }) =>
      items.find((item) => item.PK === PK && item.SK === SK);
    const guard = find(guardKey);
    const guarded = guard && (await this.guardedRegistration(eventId, userId, guard));
    if (guarded) return guarded;
    const item = find(rowKey);
    return item && !ended(item)
      ? { registration: this.toRegistration(item), requestKey: item.requestKey }
      : undefined;
  }

  /** The row a guard points to, if it is still that registration's and live. */
  private async guardedRegistration(
    eventId: string,
    userId: string,
    guard: Item,
  ): Promise<FoundRegistration | undefined> {
    if (guard.ended === true) return undefined;
    const shard = Number(guard.shard);
    const row = await this.table.get(shardKeys.registration(eventId, shard, userId));
    // Unregistered between the two reads (both go in one transaction), or a guard a crashed
    // deletion left of an earlier event with this id.
    if (!row || ended(row) || row.registrationId !== guard.registrationId) return undefined;
    return { registration: this.toRegistration(row), requestKey: row.requestKey, shard };
  }

  async registrationFacts(eventId: string, userId: string): Promise<RegistrationFacts> {
    const items = await this.table.batchGet([
      eventKey(eventId),
      userKey(userId),
      registrationKey(eventId, userId),
      shardKeys.guard(userId, eventId),
    ]);
    const find = ({ PK, SK }: { PK: string; SK: string }) =>
      items.find((item) => item.PK === PK && item.SK === SK);
    const event = liveEvent(find(eventKey(eventId)));
    const userExists = find(userKey(userId)) !== undefined;
    if (event && shardsOf(event) > 1) {
      const existing = await this.guarded(event, userId, find(shardKeys.guard(userId, eventId)));
      return { event, userExists, existing };
    }
    const row = find(registrationKey(eventId, userId));
    const existing = ended(row) ? undefined : row;
    return {
      event,
      userExists,
      existing: existing
        ? { registration: this.toRegistration(existing), requestKey: existing.requestKey }
        : undefined,
    };
  }

  confirm(registration: NewRegistration, announced: DomainEvent): Promise<RegistrationCommit> {
    return this.commitRegistration(registration, announced, {
      update: x`SET registeredCount = registeredCount + ${1}, updatedAt = ${registration.registeredAt}`,
      condition: x`${open} AND registeredCount < ${name('capacity')} AND waitlistCount = ${0}`,
    });
  }

  waitlist(
    registration: NewRegistration,
    ticket: number,
    announced: DomainEvent,
  ): Promise<RegistrationCommit> {
    return this.commitRegistration(registration, announced, {
      update: x`SET waitlistCount = waitlistCount + ${1}, updatedAt = ${registration.registeredAt}`,
      // Full, or people already wait (a newcomer never takes a seat from them); and no promotion
      // has passed this ticket since it was taken (it would have been skipped).
      condition: x`${open} AND hasWaitlist = ${true} AND (registeredCount >= ${name('capacity')} OR waitlistCount > ${0}) AND waitlistFrontier < ${ticket}`,
      ticket,
    });
  }

  async shardedRegistrationFacts(event: Event, userId: string): Promise<RegistrationFacts> {
    const [user, guard] = [userKey(userId), shardKeys.guard(userId, event.eventId)];
    const items = await this.table.batchGet([user, guard]);
    const find = ({ SK }: { SK: string }) => items.find((item) => item.SK === SK);
    return {
      event,
      userExists: find(user) !== undefined,
      existing: await this.guarded(event, userId, find(guard)),
    };
  }

  /** The registration a sharded event's guard points to, if the guard is this event's. */
  private async guarded(event: Event, userId: string, guard: Item | undefined) {
    // A guard of an earlier event with this id holds nothing (its put replaces it).
    if (!guard || guard.eventCreatedAt !== event.createdAt) return undefined;
    return this.guardedRegistration(event.eventId, userId, guard);
  }

  async shardCounters(eventId: string, shards: number): Promise<ShardCounter[] | undefined> {
    const keys = Array.from({ length: shards }, (_, shard) => shardKeys.counter(eventId, shard));
    const items = new Map((await this.table.batchGet(keys)).map((item) => [item.PK, item]));
    const counters = keys.map(({ PK }) => liveShardCounter(items.get(PK)));
    return counters.every((c) => c !== undefined) ? (counters as ShardCounter[]) : undefined;
  }

  confirmInShard(
    registration: NewRegistration,
    target: ShardTarget,
    announced: DomainEvent,
  ): Promise<ShardCommit> {
    // The seat, on this shard only: the event item is never written by a registration. The
    // shard mirrors the event's status and deletion mark, so `open` reads as on the event.
    return this.commitInShard(registration, undefined, target, announced, {
      update: x`SET registeredCount = registeredCount + ${1}, freeSeats = freeSeats - ${1}, updatedAt = ${registration.registeredAt}`,
      condition: x`${open} AND soldOut = ${false} AND freeSeats > ${0}`,
    });
  }

  joinInShard(
    registration: NewRegistration,
    ticket: number,
    target: ShardTarget,
    announced: DomainEvent,
  ): Promise<ShardCommit> {
    // Only while the latch is on: every shard was dry at once, and nobody can have taken a seat
    // since without clearing it on every shard (which requires nobody waiting). The frontier is
    // not checked (that would put the waitlist item in every join): a ticket a promotion passed
    // meanwhile lands at the head and is promoted next.
    return this.commitInShard(registration, ticket, target, announced, {
      update: x`SET waitlistCount = waitlistCount + ${1}, updatedAt = ${registration.registeredAt}`,
      condition: x`${open} AND hasWaitlist = ${true} AND soldOut = ${true}`,
    });
  }

  /** A registration's transaction on one shard: its counter, its row, its guard, the user. */
  private async commitInShard(
    registration: NewRegistration,
    ticket: number | undefined,
    { shard, eventCreatedAt }: ShardTarget,
    announced: DomainEvent,
    counterChange: { update: Fragment; condition: Fragment },
  ): Promise<ShardCommit> {
    const { eventId, userId } = registration;
    const row = shardedRegistrationItem(registration, shard, ticket);
    const outcome = await transactOn(this.table, [
      this.table.updateItem(shardKeys.counter(eventId, shard), counterChange),
      // As unsharded: one row per user in this partition; an offer that ended is replaced.
      this.table.put(
        row,
        x`attribute_not_exists(PK) OR ${name('status')} IN (${list(endedStatuses)})`,
      ),
      // One registration per user across the shards. A guard that an earlier event with this
      // id left behind (a deletion that crashed) holds nothing; one that ended holds the shard
      // of its row, which only a registration there replaces.
      this.table.put(
        guardItem(registration, shard, eventCreatedAt),
        x`attribute_not_exists(PK) OR (ended = ${true} AND ${name('shard')} = ${shard}) OR eventCreatedAt <> ${eventCreatedAt}`,
      ),
      this.table.check(userKey(userId), x`attribute_exists(PK)`),
      this.outbox.put(announced),
    ]);
    if (outcome.ok) return { ok: true, registration: this.toRegistration(row) };
    const [counterFailed, rowFailed, guardFailed, userFailed] = outcome.reasons.map(
      (code) => code === 'ConditionalCheckFailed',
    );
    const [counter, existingRow, guard] = outcome.current;
    let existing: FoundRegistration | undefined;
    let pinned: number | undefined;
    if (guardFailed && guard?.ended === true && guard.eventCreatedAt === eventCreatedAt) {
      pinned = Number(guard.shard);
    } else if (rowFailed && existingRow) {
      existing = {
        registration: this.toRegistration(existingRow),
        requestKey: existingRow.requestKey,
      };
    } else if (guardFailed && guard) {
      existing = await this.guardedRegistration(eventId, userId, guard);
    }
    return {
      ok: false,
      counter: counterFailed ? (liveShardCounter(counter) ?? 'gone') : 'unchanged',
      userMissing: Boolean(userFailed),
      ...(pinned === undefined ? {} : { pinned }),
      existing: existing && {
        registration: existing.registration,
        requestKey: existing.requestKey,
      },
    };
  }

  async rebalance(eventId: string, { from, to, seats }: SeatMove): Promise<Rebalanced> {
    // Both the slice and the free seats move, so each shard keeps slice = registered + free.
    const outcome = await transactOn(this.table, [
      this.table.updateItem(shardKeys.counter(eventId, from), {
        update: x`SET freeSeats = freeSeats - ${seats}, slice = slice - ${seats}`,
        condition: x`${live} AND freeSeats >= ${seats}`,
      }),
      this.table.updateItem(shardKeys.counter(eventId, to), {
        update: x`SET freeSeats = freeSeats + ${seats}, slice = slice + ${seats}`,
        condition: live,
      }),
    ]);
    if (outcome.ok) return { ok: true };
    const failed = outcome.current.filter(
      (_, i) => outcome.reasons[i] === 'ConditionalCheckFailed',
    );
    const counters = failed.map(liveShardCounter);
    return {
      ok: false,
      counters: counters.filter((c) => c !== undefined),
      gone: counters.some((c) => c === undefined),
    };
  }

  async unregister(
    plan: UnregisterPlan,
    now: string,
    announced: readonly DomainEvent[],
  ): Promise<boolean> {
    if (plan.shard !== undefined) return this.unregisterSharded(plan, plan.shard, now, announced);
    const { registration } = plan;
    // Still as read, version included: its cancellation's sequence is exact.
    const removeRegistration = this.table.deleteItem(
      registrationKey(registration.eventId, registration.userId),
      x`${name('status')} = ${registration.status} AND registrationId = ${registration.registrationId} AND ${versionIs(registration.version)}`,
    );
    const items = [
      removeRegistration,
      ...this.afterRemoval(plan, now),
      ...announced.map((event) => this.outbox.put(event)),
      // A confirmed registration had a ticket: door devices learn it no longer admits.
      ...(registration.status === 'confirmed' ? [this.revocation(registration, now)] : []),
    ];
    return (await transactOn(this.table, items)).ok;
  }

  /**
   * A registration of a sharded event leaves: its row and guard go with its shard's counter, in
   * one transaction. A confirmed one's ticket is revoked in its shard's partition and its seat
   * goes back to the shard (latch as read) or, latch on, to the head of the waitlist: the head's
   * row is confirmed and the seat's slice moves to the head's shard. A waiting one's ticket is a
   * hole on the waitlist item.
   */
  private async unregisterSharded(
    plan: UnregisterPlan,
    shard: number,
    now: string,
    announced: readonly DomainEvent[],
  ): Promise<boolean> {
    const { registration } = plan;
    const { eventId, userId, registrationId } = registration;
    const counter = (s: number, update: Fragment, condition: Fragment = live) =>
      this.table.updateItem(shardKeys.counter(eventId, s), {
        update: x`SET ${update}, updatedAt = ${now}`,
        condition,
      });
    const items: TransactItem[] = [
      this.table.deleteItem(
        shardKeys.registration(eventId, shard, userId),
        x`${name('status')} = ${registration.status} AND registrationId = ${registrationId} AND ${versionIs(registration.version)}`,
      ),
      this.table.deleteItem(
        shardKeys.guard(userId, eventId),
        x`registrationId = ${registrationId}`,
      ),
      ...announced.map((event) => this.outbox.put(event)),
    ];
    if (registration.status === 'confirmed') {
      items.push(
        this.table.put({
          ...shardKeys.revoked(eventId, shard, registrationId),
          type: 'revocation',
          eventId,
          registrationId,
          revokedAt: now,
          ...shardKeys.ticketKeys(eventId, shard, registrationId, now),
        }),
      );
    }
    switch (plan.kind) {
      case 'free-seat':
        if (registration.status !== 'confirmed') return unsupported(plan);
        // The latch as read: off, nobody waits and the seat is simply free; on, the service
        // passes it on (or clears the latch) by the commits that follow.
        items.push(
          counter(
            shard,
            x`registeredCount = registeredCount - ${1}, freeSeats = freeSeats + ${1}`,
            x`${live} AND soldOut = ${plan.soldOut === true}`,
          ),
        );
        break;
      case 'end-offer':
        // The held seat is free in its shard, and one offer fewer is out (the batch's count).
        items.push(
          counter(
            shard,
            x`registeredCount = registeredCount - ${1}, offeredCount = offeredCount - ${1}, freeSeats = freeSeats + ${1}`,
          ),
          this.table.updateItem(shardKeys.waitlist(eventId), {
            update: x`SET offeredCount = offeredCount - ${1}`,
            condition: x`attribute_exists(PK)`,
          }),
        );
        break;
      case 'leave-waitlist':
        items.push(
          counter(shard, x`waitlistCount = waitlistCount - ${1}`),
          this.table.updateItem(shardKeys.waitlist(eventId), {
            update: x`ADD waitlistHoles ${new Set([registration.ticket ?? 0])}`,
            condition: x`attribute_exists(PK)`,
          }),
        );
        break;
      case 'pass-seat': {
        if (registration.status !== 'confirmed') return unsupported(plan);
        const headShard = shardOf(plan.head.registrationId);
        items.push(promoteItem(this.table, plan.head, now, headShard));
        if (headShard === shard) {
          // The seat stays in its shard: taken by the head instead.
          items.push(counter(shard, x`waitlistCount = waitlistCount - ${1}`));
        } else {
          items.push(
            counter(shard, x`registeredCount = registeredCount - ${1}, slice = slice - ${1}`),
            counter(
              headShard,
              x`registeredCount = registeredCount + ${1}, slice = slice + ${1}, waitlistCount = waitlistCount - ${1}`,
            ),
          );
        }
        items.push(this.frontierItem(eventId, plan.frontier, plan.passedHoles));
        break;
      }
      default:
        return unsupported(plan);
    }
    return (await transactOn(this.table, items)).ok;
  }

  /** The waitlist item's frontier moved up to `frontier` (never back), the holes it passed gone. */
  private frontierItem(eventId: string, frontier: number, passedHoles: readonly number[]) {
    return this.table.updateItem(shardKeys.waitlist(eventId), {
      update: x`SET waitlistFrontier = ${frontier}${
        passedHoles.length > 0 ? x` DELETE waitlistHoles ${new Set(passedHoles)}` : x``
      }`,
      // A promotion that passed further got there first: the frontier never moves back.
      condition: x`attribute_exists(PK) AND waitlistFrontier <= ${frontier}`,
    });
  }

  async promoteInShards(
    { view, heads, frontier, passedHoles }: ShardPromotion,
    now: string,
    promoted: readonly DomainEvent[],
  ): Promise<boolean> {
    const { eventId } = view.event;
    // Per shard: seats taken from its free ones (x) and heads it holds (y), one update each.
    const seats = seatsForHeads(
      view.shards,
      heads.map((head) => shardOf(head.registrationId)),
    );
    if (!seats) return false;
    const items: TransactItem[] = seats.map(({ shard, take: x_, hold: y }) =>
      this.table.updateItem(shardKeys.counter(eventId, shard), {
        update: x`SET freeSeats = freeSeats - ${x_}, slice = slice + ${y - x_}, registeredCount = registeredCount + ${y}, waitlistCount = waitlistCount - ${y}, updatedAt = ${now}`,
        condition: x_ > 0 ? x`${live} AND freeSeats >= ${x_}` : live,
      }),
    );
    items.push(
      ...heads.map((head) => promoteItem(this.table, head, now, shardOf(head.registrationId))),
      this.frontierItem(eventId, frontier, passedHoles),
      ...promoted.map((event) => this.outbox.put(event)),
    );
    return (await transactOn(this.table, items)).ok;
  }

  async takeLatchLease(eventId: string, at: Date): Promise<boolean> {
    try {
      const result = await this.table.update(shardKeys.waitlist(eventId), {
        update: x`SET latchLeaseAt = ${at.getTime()}`,
        condition: x`attribute_exists(PK) AND (attribute_not_exists(latchLeaseAt) OR latchLeaseAt <= ${at.getTime() - LATCH_LEASE_MS})`,
      });
      return result.ok;
    } catch (error) {
      // Refused for load (its key throttled, the item in a transaction): others are taking it
      // at this moment — not taken, as when its condition fails, rather than an outage.
      if (isDependencyUnavailable(error)) return false;
      throw error;
    }
  }

  async releaseLatchLease(eventId: string, at: Date): Promise<void> {
    await this.table.update(shardKeys.waitlist(eventId), {
      update: x`REMOVE latchLeaseAt`,
      condition: x`latchLeaseAt = ${at.getTime()}`,
    });
  }

  async flipLatch(eventId: string, shards: number, on: boolean, now: string): Promise<boolean> {
    const items = Array.from({ length: shards }, (_, s) =>
      this.table.updateItem(shardKeys.counter(eventId, s), {
        update: x`SET soldOut = ${on}, updatedAt = ${now}`,
        condition: on
          ? x`${live} AND freeSeats = ${0} AND soldOut = ${false}`
          : x`${live} AND soldOut = ${true} AND waitlistCount = ${0}`,
      }),
    );
    return (await transactOn(this.table, items)).ok;
  }

  async takeShardTicket(eventId: string, shard: number, now: Date): Promise<number | undefined> {
    const at = now.getTime();
    const blockKey = shardKeys.block(eventId, shard);
    for (let attempt = 0; attempt < BLOCK_ATTEMPTS; attempt++) {
      const taken = await this.table.update(blockKey, {
        update: x`SET blockNext = blockNext + ${1}`,
        condition: x`blockNext <= blockEnd AND blockAt > ${at - this.ticketBlockMs}`,
      });
      if (taken.ok) return Number(taken.item.blockNext) - 1;
      // Spent, expired or none yet: a new block from the one sequence, its first ticket ours.
      const previous = toTicketBlock(taken.current);
      const size = previous ? nextBlockSize(previous, at, this.ticketBlockMs) : 1;
      const issued = await this.table.update(shardKeys.waitlist(eventId), {
        update: x`ADD waitlistIssued ${size} SET waitlistTicketAt = ${now.toISOString()}`,
        condition: x`attribute_exists(PK)`,
      });
      if (!issued.ok) return undefined;
      const block = allocatedBlock(Number(issued.item.waitlistIssued), size, at);
      const set = await this.table.update(blockKey, {
        update: x`SET blockNext = ${block.next + 1}, blockEnd = ${block.end}, blockAt = ${at}, blockSize = ${size}`,
        // Still the block this join saw: another join may have replaced it meanwhile.
        condition: previous
          ? x`blockNext = ${previous.next} AND blockAt = ${previous.at}`
          : x`attribute_not_exists(blockNext)`,
      });
      if (set.ok) {
        // The tickets the old block never handed out are holes, or every place behind counts them.
        if (previous) await this.addHoles(eventId, blockTail(previous));
        return block.next;
      }
      // Another join replaced the block first: this one is never handed out.
      await this.addHoles(eventId, blockTail(block));
    }
    return undefined;
  }

  /** Tickets that left (or never were used), recorded on the waitlist item: no condition. */
  private async addHoles(eventId: string, tickets: readonly number[]): Promise<void> {
    if (tickets.length === 0) return;
    await this.table.update(shardKeys.waitlist(eventId), {
      update: x`ADD waitlistHoles ${new Set(tickets)}`,
      condition: x`attribute_exists(PK)`,
    });
  }

  async shardWaitlist(eventId: string): Promise<Waitlist | undefined> {
    const item = await this.table.get(shardKeys.waitlist(eventId), { consistent: false });
    return item ? toWaitlist(item) : undefined;
  }

  async ticketBlocks(eventId: string, shards: number): Promise<(TicketBlock | undefined)[]> {
    const keys = Array.from({ length: shards }, (_, s) => shardKeys.block(eventId, s));
    const items = new Map((await this.table.batchGet(keys)).map((item) => [item.PK, item]));
    return keys.map(({ PK }) => toTicketBlock(items.get(PK)));
  }

  async releaseUnusedShardTickets(
    eventId: string,
    tickets: readonly number[],
    issued: number,
    issuedBefore: string | undefined,
    blocks: readonly (TicketBlock | undefined)[],
  ): Promise<boolean> {
    // No ticket issued since they were read (nor lately) and none taken from a block since: none
    // of these tickets is held by a join in flight.
    const outcome = await transactOn(this.table, [
      this.table.updateItem(shardKeys.waitlist(eventId), {
        update: x`ADD waitlistHoles ${new Set(tickets)}`,
        condition: and(
          x`attribute_exists(PK) AND waitlistIssued = ${issued}`,
          issuedBefore
            ? x`(attribute_not_exists(waitlistTicketAt) OR waitlistTicketAt < ${issuedBefore})`
            : undefined,
        ),
      }),
      ...blocks.map((block, s) =>
        this.table.check(
          shardKeys.block(eventId, s),
          block
            ? x`blockNext = ${block.next} AND blockAt = ${block.at}`
            : x`attribute_not_exists(blockNext)`,
        ),
      ),
    ]);
    return outcome.ok;
  }

  private revocation(registration: Registration, now: string): TransactItem {
    const { eventId, registrationId } = registration;
    return this.table.put({
      ...eventsKeys.revoked(eventId, registrationId),
      type: 'revocation',
      eventId,
      registrationId,
      revokedAt: now,
      ...eventsKeys.ticketKeys(eventId, registrationId, now),
    });
  }

  /** What commits with a planned removal: the event's counters and bookkeeping, a promotion. */
  private afterRemoval(plan: UnregisterPlan, now: string): TransactItem[] {
    const { registration, fold } = plan;
    const event = (update: Fragment, condition: Fragment = live) =>
      this.table.updateItem(eventKey(registration.eventId), {
        update: x`SET updatedAt = ${now}, ${update}`,
        condition,
      });
    const folded =
      fold &&
      event(
        x`waitlistCount = waitlistCount - ${1}, ${foldActions(fold.seen, fold.folded)}`,
        x`${live} AND ${bookkeepingIs(fold.seen)}`,
      );
    switch (plan.kind) {
      case 'leave-waitlist':
        return [
          folded ??
            event(
              x`waitlistCount = waitlistCount - ${1} ADD waitlistHoles ${new Set([registration.ticket ?? 0])}`,
            ),
        ];
      case 'free-seat':
        // Nobody waits, as the condition re-checks at commit: a waitlisted registration that
        // lands in between makes this fail, and the next attempt passes the seat instead.
        // In offer mode the seat is free until the service offers it on (a second commit), so
        // the condition only asks that the mode hasn't changed since the decision.
        return [
          event(
            x`registeredCount = registeredCount - ${1}`,
            x`${live} AND (waitlistCount = ${0} OR promotion = ${'offer'})`,
          ),
        ];
      case 'end-offer':
        // The held seat is free; the service offers it on.
        return [
          event(x`registeredCount = registeredCount - ${1}, offeredCount = offeredCount - ${1}`),
        ];
      case 'pass-seat':
        // The seat passes to the head of the waitlist in the same transaction that frees it.
        return [
          promoteItem(this.table, plan.head, now),
          folded ??
            event(
              x`waitlistCount = waitlistCount - ${1}, waitlistFrontier = ${plan.frontier}${
                plan.passedHoles.length > 0
                  ? x` DELETE waitlistHoles ${new Set(plan.passedHoles)}`
                  : x``
              }`,
              // Never move the frontier back (a promotion that passed further got there first).
              x`${live} AND waitlistFrontier <= ${plan.frontier}`,
            ),
        ];
    }
  }

  async listEventRegistrations(event: EventShards, page: PageRequest): Promise<Page<Registration>> {
    const { eventId } = event;
    if (shardsOf(event) > 1) {
      return shardedRegistrationsPage(this.table, event, page, this.toRegistration);
    }
    return this.table.queryPage(
      `event-registrations:${eventId}`,
      {
        index: eventsKeys.registrationsIndex,
        key: x`PK = ${eventKey(eventId).PK}`,
        consistent: true,
      },
      page,
      this.toRegistration,
    );
  }

  async *eventRegistrationPages(
    event: EventShards,
    pageSize: number,
  ): AsyncGenerator<RegistrationWithName[]> {
    // What toRegistration reads, not the keys and indexes: an export reads every item.
    const pages =
      shardsOf(event) > 1
        ? shardedRegistrationRows(this.table, event, pageSize, REGISTRATION_FIELDS)
        : this.table.queryPages(
            {
              index: eventsKeys.registrationsIndex,
              key: x`PK = ${eventKey(event.eventId).PK}`,
              consistent: true,
              attributes: REGISTRATION_FIELDS,
            },
            pageSize,
          );
    for await (const items of pages) {
      const registrations = items.map(this.toRegistration);
      // The users of a page in batches, never one read per registration.
      const users =
        registrations.length > 0
          ? await this.table.batchGet(registrations.map(({ userId }) => userKey(userId)))
          : [];
      const names = new Map(users.map((user) => [user.userId as string, user.name as string]));
      yield registrations.map((registration) => ({
        registration,
        userName: names.get(registration.userId),
      }));
    }
  }

  async listUserRegistrations(
    userId: string,
    page: PageRequest,
  ): Promise<Page<{ registration: Registration; event: Event }>> {
    // The entry's own keys name its row, in whichever partition (a sharded event's shard).
    const refs = await this.table.queryPage(
      `user-registrations:${userId}`,
      {
        index: eventsKeys.collectionsIndex,
        key: x`GSI2PK = ${`USER#${userId}#REGS`}`,
        forward: false,
      },
      page,
      (item) => ({ PK: String(item.PK), SK: String(item.SK), eventId: item.eventId as string }),
    );
    // The index is eventually consistent: re-read the registrations themselves and their events,
    // in batches (never one call per registration), a sharded event summed from its shards.
    const items = await this.table.batchGet(
      refs.items.flatMap(({ PK, SK, eventId }) => [{ PK, SK }, eventKey(eventId)]),
    );
    const byKey = new Map(items.map((item) => [`${item.PK}|${item.SK}`, item]));
    const eventItems = [...new Set(refs.items.map(({ eventId }) => eventId))]
      .map((eventId) => byKey.get(`${eventKey(eventId).PK}|EVENT`))
      .filter((item): item is Item => item !== undefined && !item.deleting);
    const events = new Map(
      (await viewsOf(this.table, eventItems)).map(({ event }) => [event.eventId, event]),
    );
    const joined: { registration: Registration; event: Event }[] = [];
    for (const { PK, SK, eventId } of refs.items) {
      const registration = byKey.get(`${PK}|${SK}`);
      const event = events.get(eventId);
      // Left behind by an event deletion that has not finished: not a registration any more.
      if (!registration || !event) continue;
      joined.push({ registration: this.toRegistration(registration), event });
    }
    return { items: joined, nextCursor: refs.nextCursor };
  }

  /*
   * The waitlist: tickets (`waitlistIssued`, taken one by one), the frontier, the holes and their
   * runs, all on the event item (events.dynamo.ts stores and reads them), and the waiting
   * registrations in ticket order (lsi1 `W#<ticket>`).
   */

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

  async releaseTicket(event: EventShards, ticket: number): Promise<void> {
    // A hole like any ticket that left (a set addition: no condition on the bookkeeping, so no
    // conflict with anyone); the service folds it afterwards. Tickets are never issued twice, so
    // one that a join thought it had given back can't end up shared.
    if (shardsOf(event) > 1) return this.addHoles(event.eventId, [ticket]);
    await this.table.update(eventKey(event.eventId), {
      update: x`ADD waitlistHoles ${new Set([ticket])}`,
      condition: live,
    });
  }

  async foldWaitlist(
    event: EventShards,
    seen: Waitlist,
    folded: Waitlist,
  ): Promise<{ ok: true } | { ok: false; current: Waitlist | undefined }> {
    if (shardsOf(event) > 1) {
      // The same names on a sharded event's waitlist item, which carries no deletion mark.
      const result = await this.table.update(shardKeys.waitlist(event.eventId), {
        update: x`SET ${foldActions(seen, folded)}`,
        condition: x`attribute_exists(PK) AND ${bookkeepingIs(seen)}`,
      });
      if (result.ok) return { ok: true };
      return { ok: false, current: result.current ? toWaitlist(result.current) : undefined };
    }
    const result = await this.table.update(eventKey(event.eventId), {
      update: x`SET ${foldActions(seen, folded)}`,
      condition: x`${live} AND ${bookkeepingIs(seen)}`,
    });
    return result.ok ? { ok: true } : { ok: false, current: liveEvent(result.current)?.waitlist };
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

  async waitlistHeads(event: EventShards, count: number): Promise<Registration[]> {
    if (count <= 0) return [];
    if (shardsOf(event) > 1) {
      return (await shardedWaitlistHeads(this.table, event, count)).map(this.toRegistration);
    }
    const { eventId } = event;
    const heads: Registration[] = [];
    for await (const items of this.table.queryPages(
      {
        index: eventsKeys.registrationsIndex,
        key: x`PK = ${eventKey(eventId).PK} AND begins_with(LSI1SK, ${'W#'})`,
        consistent: true,
      },
      count,
    )) {
      heads.push(...items.map(this.toRegistration));
      break;
    }
    return heads;
  }

  async waitingTickets(event: EventShards): Promise<number[]> {
    if (shardsOf(event) > 1) return shardedWaitingTickets(this.table, event);
    const { eventId } = event;
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

  async promote(
    current: Event,
    heads: readonly Registration[],
    now: string,
    promoted: readonly DomainEvent[],
  ): Promise<boolean> {
    // No change of the event's own fields: its version stays, only the heads' move.
    const written = await commitPromotion(this.table, this.outbox, {
      current,
      changes: {},
      heads,
      now,
      announced: { promoted },
    });
    return written.ok;
  }

  /**
   * The registration transaction: the event update (counters, under the condition that decided
   * this outcome), the registration itself (one per user per event, by key), the user's
   * existence, and the registration's announcement. A failure says which of the first three
   * failed, with the event as it is now.
   */
  private async commitRegistration(
    registration: NewRegistration,
    announced: DomainEvent,
    guard: { update: Fragment; condition: Fragment; ticket?: number },
  ): Promise<RegistrationCommit> {
    const { update, condition, ticket } = guard;
    const item = registrationItem(registration, ticket);
    const outcome = await transactOn(this.table, [
      this.table.updateItem(eventKey(registration.eventId), { update, condition }),
      // One registration per user per event; an offer that ended holds nothing and is replaced.
      this.table.put(
        item,
        x`attribute_not_exists(PK) OR ${name('status')} IN (${list(endedStatuses)})`,
      ),
      this.table.check(userKey(registration.userId), x`attribute_exists(PK)`),
      this.outbox.put(announced),
    ]);
    if (outcome.ok) return { ok: true, registration: this.toRegistration(item) };
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
          ? { registration: this.toRegistration(existing), requestKey: existing.requestKey }
          : undefined,
      ticketPassed:
        ticket !== undefined &&
        Boolean(eventFailed) &&
        Number(currentEvent?.waitlistFrontier ?? 0) >= ticket,
    };
  }
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
    version: 1,
    ...(ticket === undefined ? {} : { ticket }),
    ...(r.requestKey ? { requestKey: r.requestKey } : {}),
    LSI1SK:
      ticket === undefined
        ? eventsKeys.confirmedSort(r.registrationId)
        : eventsKeys.waitlistSort(ticket),
    GSI2PK: `USER#${r.userId}#REGS`,
    GSI2SK: `${r.registeredAt}#${r.eventId}`,
    ...(ticket === undefined
      ? eventsKeys.ticketKeys(r.eventId, r.registrationId, r.registeredAt)
      : {}),
  };
}

/** A sharded event's row, in its shard's partition (and, confirmed, its ticket index). */
function shardedRegistrationItem(r: NewRegistration, shard: number, ticket?: number): Item {
  const { GSI3PK: _, GSI3SK: __, ...fields } = registrationItem(r, ticket);
  return {
    ...fields,
    ...shardKeys.registration(r.eventId, shard, r.userId),
    shard,
    ...(ticket === undefined
      ? shardKeys.ticketKeys(r.eventId, shard, r.registrationId, r.registeredAt)
      : {}),
  };
}

/** The user's one registration for a sharded event: where its row is, and what made it. */
function guardItem(r: NewRegistration, shard: number, eventCreatedAt: string): Item {
  return {
    ...shardKeys.guard(r.userId, r.eventId),
    type: 'guard',
    eventId: r.eventId,
    userId: r.userId,
    shard,
    registrationId: r.registrationId,
    eventCreatedAt,
    ...(r.requestKey ? { requestKey: r.requestKey } : {}),
  };
}

const REGISTRATION_FIELDS = [
  'registrationId',
  'userId',
  'eventId',
  'status',
  'registeredAt',
  'promotedAt',
  'ticket',
  'version',
  'offerId',
  'offeredAt',
  'offerExpiresAt',
  'declinedAt',
];

/**
 * A registration row as the domain sees it; `tokenOf` gives an offered one its capability token
 * (derived from the offer id, never stored).
 */
export function toRegistration(item: Item, tokenOf?: (offerId: string) => string): Registration {
  const offered = item.status === 'offered' && typeof item.offerId === 'string';
  return {
    registrationId: item.registrationId,
    userId: item.userId,
    eventId: item.eventId,
    status: item.status,
    registeredAt: item.registeredAt,
    ...(item.promotedAt ? { promotedAt: item.promotedAt } : {}),
    ...(item.ticket !== undefined ? { ticket: Number(item.ticket) } : {}),
    ...(item.offerId ? { offerId: item.offerId } : {}),
    ...(item.offeredAt ? { offeredAt: item.offeredAt } : {}),
    ...(item.offerExpiresAt ? { offerExpiresAt: item.offerExpiresAt } : {}),
    ...(item.declinedAt ? { declinedAt: item.declinedAt } : {}),
    ...(offered && tokenOf ? { offerToken: tokenOf(item.offerId) } : {}),
    version: versionOf(item),
  };
}

/** A row that holds nothing any more (an offer that ended): as good as absent to a registration. */
const ended = (item: Item | undefined) =>
  item !== undefined && endedStatuses.includes(item.status as RegistrationStatus);
