import { name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item } from '../../platform/dynamo/table.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type {
  Admission,
  CheckinEntry,
  CheckinEvent,
  CheckinRepository,
  ManifestAdmission,
  ManifestChanges,
  ManifestTicket,
  Scan,
  ScanAnswer,
  ScanCommit,
} from './events.checkins.repository.js';
import { eventsKeys, live, transactOn } from './events.dynamo.js';
import type { Registration } from './events.model.js';
import { toRegistration } from './events.registrations.dynamo.js';
import { shardsOf } from './events.shards.dynamo.js';
import { rowPartition, ticketIndexKeys } from './events.shards.readers.dynamo.js';

const { event: eventKey, registration: registrationKey, user: userKey } = eventsKeys;

/**
 * Check-in items live in their event's partition (removed with it):
 *   admission   SK=CHECKIN#<registrationId>              inside, admittedAt, admittedBy
 *   answer      SK=NONCE#<nonce>                         the answer a scan got (purged after 30 days)
 *   log entry   SK=CHECKLOG#<recordedAt>#<checkinId>     entry | exit | revert
 *   revocation  SK=REVOKED#<registrationId>              in gsi3, written by the unregister
 * and every confirmed registration row is in gsi3 under TICKETS#<eventId> by when it was
 * confirmed, so a door device's delta is one query of what changed since its last sync.
 */
const NONCE_KEPT_SECONDS = 30 * 86_400;

const admissionKey = (eventId: string, registrationId: string) => ({
  PK: eventKey(eventId).PK,
  SK: `CHECKIN#${registrationId}`,
});
const nonceKey = (eventId: string, nonce: string) => ({
  PK: eventKey(eventId).PK,
  SK: `NONCE#${nonce}`,
});

export class DynamoCheckinRepository implements CheckinRepository {
  constructor(
    private readonly table: DynamoTable,
    private readonly outbox: Outbox,
  ) {}

  async confirmedRegistration(
    event: CheckinEvent,
    registrationId: string,
  ): Promise<Registration | undefined> {
    for await (const items of this.table.queryPages(
      {
        index: eventsKeys.registrationsIndex,
        key: x`PK = ${rowPartition(event, registrationId)} AND LSI1SK = ${eventsKeys.confirmedSort(registrationId)}`,
        consistent: true,
      },
      1,
    )) {
      const [item] = items;
      return item ? toRegistration(item) : undefined;
    }
    return undefined;
  }

  async isRevoked(event: CheckinEvent, registrationId: string): Promise<boolean> {
    const key = { PK: rowPartition(event, registrationId), SK: `REVOKED#${registrationId}` };
    return (await this.table.get(key)) !== undefined;
  }

  async answered(eventId: string, nonce: string): Promise<ScanAnswer | undefined> {
    const item = await this.table.get(nonceKey(eventId, nonce));
    return item ? (item.answer as ScanAnswer) : undefined;
  }

  async recordAnswer(
    eventId: string,
    nonce: string,
    answer: ScanAnswer,
    now: string,
  ): Promise<ScanAnswer> {
    const put = await this.table.putIfAbsent({
      ...nonceKey(eventId, nonce),
      type: 'checkin-answer',
      answer: withoutUndefined(answer),
      answeredAt: now,
      purgeAt: purgeAt(now),
    });
    return put.created ? answer : (put.existing?.answer as ScanAnswer);
  }

  async commitScan(
    scan: Scan,
    answer: ScanAnswer,
    announced: (entry: CheckinEntry) => DomainEvent,
  ): Promise<ScanCommit> {
    const { eventId, registration, type, at, device, now } = scan;
    const entry: CheckinEntry = {
      checkinId: scan.nonce,
      eventId,
      registrationId: registration.registrationId,
      userId: registration.userId,
      type,
      at,
      recordedAt: now,
      device,
    };
    const outcome = await transactOn(this.table, [
      this.table.put(
        {
          ...nonceKey(eventId, scan.nonce),
          type: 'checkin-answer',
          answer: withoutUndefined(answer),
          answeredAt: now,
          purgeAt: purgeAt(now),
        },
        x`attribute_not_exists(PK)`,
      ),
      this.table.updateItem(admissionKey(eventId, registration.registrationId), {
        update:
          type === 'entry'
            ? x`SET inside = ${true}, admittedAt = ${at}, admittedBy = ${device ?? 'api'}, registrationId = ${registration.registrationId}, userId = ${registration.userId}, ${name('type')} = ${'admission'}, ${indexed(eventId, registration.registrationId, now)}`
            : x`SET inside = ${false}, exitedAt = ${at}, ${indexed(eventId, registration.registrationId, now)}`,
        // One admission at a time, whatever scans of the same ticket run at once.
        condition:
          type === 'entry'
            ? x`attribute_not_exists(inside) OR inside = ${false}`
            : x`inside = ${true}`,
      }),
      this.table.put(logItem(entry), x`attribute_not_exists(PK)`),
      // The ticket's registration is still this confirmed one (not unregistered since), in its
      // shard for a sharded event; the event itself is checked on its (cold) item.
      this.table.check(
        {
          PK: rowPartition({ eventId, shards: scan.shards }, registration.registrationId),
          SK: registrationKey(eventId, registration.userId).SK,
        },
        x`${name('status')} = ${'confirmed'} AND registrationId = ${registration.registrationId}`,
      ),
      this.table.check(eventKey(eventId), x`${live} AND ${name('status')} <> ${'cancelled'}`),
      this.outbox.put(announced(entry)),
    ]);
    if (outcome.ok) return { ok: true, entry };
    const [nonceFailed, admissionFailed, , registrationFailed, eventFailed] = outcome.reasons.map(
      (code) => code === 'ConditionalCheckFailed',
    );
    if (nonceFailed) {
      return { ok: false, reason: 'replay', answer: outcome.current[0]?.answer as ScanAnswer };
    }
    if (registrationFailed || eventFailed) return { ok: false, reason: 'revoked' };
    if (admissionFailed) {
      const current = outcome.current[1];
      return { ok: false, reason: 'state', admission: current ? toAdmission(current) : undefined };
    }
    return { ok: false, reason: 'revoked' };
  }

  async admission(eventId: string, registrationId: string): Promise<Admission | undefined> {
    const item = await this.table.get(admissionKey(eventId, registrationId));
    return item ? toAdmission(item) : undefined;
  }

  async revert(
    eventId: string,
    admission: Admission,
    now: string,
    device: string | undefined,
    announced: (entry: CheckinEntry) => DomainEvent,
  ): Promise<CheckinEntry | undefined> {
    const entry: CheckinEntry = {
      checkinId: `revert-${now}-${admission.registrationId}`,
      eventId,
      registrationId: admission.registrationId,
      userId: admission.userId,
      type: 'revert',
      at: now,
      recordedAt: now,
      device,
    };
    const outcome = await transactOn(this.table, [
      this.table.updateItem(admissionKey(eventId, admission.registrationId), {
        update: x`SET inside = ${false}, revertedAt = ${now}, ${indexed(eventId, admission.registrationId, now)}`,
        condition: x`inside = ${true} AND admittedAt = ${admission.admittedAt}`,
      }),
      this.table.put(logItem(entry), x`attribute_not_exists(PK)`),
      this.outbox.put(announced(entry)),
    ]);
    return outcome.ok ? entry : undefined;
  }

  listCheckins(eventId: string, page: PageRequest): Promise<Page<CheckinEntry>> {
    return this.table.queryPage(
      `checkins:${eventId}`,
      {
        key: x`PK = ${eventKey(eventId).PK} AND begins_with(SK, ${'CHECKLOG#'})`,
        consistent: true,
      },
      page,
      toEntry,
    );
  }

  async *checkinPages(eventId: string): AsyncIterable<CheckinEntry[]> {
    for await (const items of this.table.queryPages({
      key: x`PK = ${eventKey(eventId).PK} AND begins_with(SK, ${'CHECKLOG#'})`,
      consistent: true,
    })) {
      yield items.map(toEntry);
    }
  }

  async backfillTicketIndex(event: CheckinEvent): Promise<number> {
    // A sharded event's confirmed rows are indexed from the first (its ticket index is new).
    if (shardsOf(event) > 1) return 0;
    const { eventId } = event;
    let written = 0;
    for await (const items of this.table.queryPages({
      index: eventsKeys.registrationsIndex,
      key: x`PK = ${eventKey(eventId).PK} AND begins_with(LSI1SK, ${'C#'})`,
      filter: x`attribute_not_exists(GSI3PK)`,
      consistent: true,
    })) {
      for (const item of items) {
        const confirmedAt = (item.promotedAt ?? item.registeredAt) as string;
        const keys = eventsKeys.ticketKeys(eventId, item.registrationId, confirmedAt);
        const result = await this.table.update(
          { PK: item.PK, SK: item.SK },
          {
            update: x`SET GSI3PK = ${keys.GSI3PK}, GSI3SK = ${keys.GSI3SK}`,
            // Still the confirmed registration read, and not indexed in between.
            condition: x`${name('status')} = ${'confirmed'} AND registrationId = ${item.registrationId} AND attribute_not_exists(GSI3PK)`,
          },
        );
        if (result.ok) written++;
      }
    }
    return written;
  }

  async manifestChanges(
    event: CheckinEvent,
    since: string | undefined,
    withNames = true,
  ): Promise<ManifestChanges> {
    const tickets: Omit<ManifestTicket, 'userName'>[] = [];
    const revoked: { registrationId: string; revokedAt: string }[] = [];
    const admissions: ManifestAdmission[] = [];
    // One key per shard for a sharded event, concatenated: a delta's cursor is a time, not a
    // place in one query, so the order across keys doesn't matter.
    const pages = ticketIndexKeys(event).map((pk) =>
      this.table.queryPages({
        index: eventsKeys.ticketsIndex,
        key: since ? x`GSI3PK = ${pk} AND GSI3SK > ${since}` : x`GSI3PK = ${pk}`,
        attributes: [
          'SK',
          'registrationId',
          'userId',
          'GSI3SK',
          'revokedAt',
          'status',
          'inside',
          'admittedAt',
          'admittedBy',
        ],
      }),
    );
    for await (const items of concatenated(pages)) {
      for (const item of items) {
        if (String(item.SK).startsWith('CHECKIN#')) {
          admissions.push({
            ...toAdmission(item),
            changedAt: String(item.GSI3SK).split('#')[0] as string,
          });
        } else if (String(item.SK).startsWith('REVOKED#')) {
          revoked.push({ registrationId: item.registrationId, revokedAt: item.revokedAt });
        } else if (item.status === 'confirmed') {
          tickets.push({
            registrationId: item.registrationId,
            userId: item.userId,
            ticketAt: String(item.GSI3SK).split('#')[0] as string,
          });
        }
      }
    }
    // Names in batches (100 keys a call), never one read per ticket.
    const names = new Map<string, string>();
    const userIds = withNames ? [...new Set(tickets.map((t) => t.userId))] : [];
    for (let i = 0; i < userIds.length; i += 100) {
      const users = await this.table.batchGet(
        userIds.slice(i, i + 100).map((userId) => userKey(userId)),
      );
      for (const user of users) names.set(user.userId as string, user.name as string);
    }
    return {
      tickets: tickets.map((t) => ({ ...t, userName: names.get(t.userId) })),
      revoked,
      admissions,
    };
  }
}

async function* concatenated<T>(sources: readonly AsyncIterable<T>[]): AsyncGenerator<T> {
  for (const source of sources) yield* source;
}

function logItem(entry: CheckinEntry): Item {
  const { type: kind, ...fields } = entry;
  return {
    PK: eventKey(entry.eventId).PK,
    SK: `CHECKLOG#${entry.recordedAt}#${entry.checkinId}`,
    ...withoutUndefined(fields),
    type: 'checkin',
    kind,
  };
}

function toEntry(item: Item): CheckinEntry {
  return {
    checkinId: item.checkinId,
    eventId: item.eventId,
    registrationId: item.registrationId,
    userId: item.userId,
    type: item.kind,
    at: item.at,
    recordedAt: item.recordedAt,
    ...(item.device ? { device: item.device } : {}),
  };
}

function toAdmission(item: Item): Admission {
  return {
    registrationId: item.registrationId,
    userId: item.userId,
    inside: item.inside === true,
    ...(item.admittedAt ? { admittedAt: item.admittedAt } : {}),
    ...(item.admittedBy ? { admittedBy: item.admittedBy } : {}),
  };
}

/**
 * An admission's place in the ticket index (gsi3), moved on each change, so that a door device's
 * delta carries the admissions other doors made since its last sync.
 */
function indexed(eventId: string, registrationId: string, changedAt: string) {
  const keys = eventsKeys.ticketKeys(eventId, registrationId, changedAt);
  return x`GSI3PK = ${keys.GSI3PK}, GSI3SK = ${keys.GSI3SK}`;
}

const purgeAt = (now: string) => Math.floor(Date.parse(now) / 1000) + NONCE_KEPT_SECONDS;

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
