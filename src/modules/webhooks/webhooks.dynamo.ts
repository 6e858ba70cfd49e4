import { and, type Fragment, join, name, x } from '../../platform/dynamo/expressions.js';
import type { DynamoTable, Item } from '../../platform/dynamo/table.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import { WebhooksErrors } from './webhooks.errors.js';
import type {
  Delivery,
  DeliveryAttempt,
  DisabledReason,
  StoredSecret,
  WebhookEndpoint,
} from './webhooks.model.js';
import type { EndpointChanges, StoredEndpoint, WebhookRepository } from './webhooks.repository.js';

/**
 * The webhooks table, one partition per endpoint:
 *
 *   endpoint   PK=EP#<id>   SK=EP                                  GSI1PK=ENDPOINTS  GSI1SK=<createdAt>#<id>
 *   delivery   PK=EP#<id>   SK=MSG#<eventId>                       GSI1PK=DUE        GSI1SK=<nextAttemptAt>#<id>#<eventId>
 *   attempt    PK=EP#<id>   SK=ATT#<attemptedAt>#<eventId>#<round>#<n>
 *
 * A delivery sits in the DUE index (sparse) only while it is pending, under the moment the sweep
 * should next look at it: when its attempt is due, when an attempt in progress must have ended,
 * or (once the sweep sent it again) a while later. Deliveries and attempts expire with the event log (`expiresAt`, TTL).
 */
export const webhooksKeys = {
  endpoint: (id: string) => ({ PK: `EP#${id}`, SK: 'EP' }),
  delivery: (endpointId: string, eventId: string) => ({
    PK: `EP#${endpointId}`,
    SK: `MSG#${eventId}`,
  }),
  index: 'gsi1',
} as const;

const ENDPOINTS = 'ENDPOINTS';
const DUE = 'DUE';
const { endpoint: endpointKey, delivery: deliveryKey } = webhooksKeys;

export class DynamoWebhookRepository implements WebhookRepository {
  constructor(
    private readonly table: DynamoTable,
    private readonly outbox: Outbox,
  ) {}

  /** A delivery expires with its event. */
  private expiresAt(occurredAt: string): number {
    return this.outbox.expiresAt({ occurredAt });
  }

  async createEndpoint(endpoint: WebhookEndpoint, secrets: readonly StoredSecret[]) {
    await this.table.putIfAbsent(endpointItem(endpoint, secrets));
  }

  async getEndpoint(id: string): Promise<StoredEndpoint | undefined> {
    const item = await this.table.get(endpointKey(id));
    return item ? storedEndpoint(item) : undefined;
  }

  listEndpoints(page: PageRequest): Promise<Page<WebhookEndpoint>> {
    return this.table.queryPage(
      'webhook-endpoints',
      { index: webhooksKeys.index, key: x`GSI1PK = ${ENDPOINTS}` },
      page,
      (item) => storedEndpoint(item).endpoint,
    );
  }

  async allEndpoints(): Promise<StoredEndpoint[]> {
    const found: StoredEndpoint[] = [];
    for await (const items of this.table.queryPages({
      index: webhooksKeys.index,
      key: x`GSI1PK = ${ENDPOINTS}`,
    })) {
      found.push(...items.map(storedEndpoint));
    }
    return found;
  }

  countEndpoints(): Promise<number> {
    return this.table.count({ index: webhooksKeys.index, key: x`GSI1PK = ${ENDPOINTS}` });
  }

  async updateEndpoint(
    current: WebhookEndpoint,
    changes: EndpointChanges & {
      readonly secrets?: readonly StoredSecret[];
      readonly disabledReason?: DisabledReason | null;
      readonly failingSince?: string | null;
    },
    now: string,
    events: readonly DomainEvent[] = [],
  ): Promise<WebhookEndpoint | undefined> {
    const sets: Fragment[] = [x`version = ${current.version + 1}`, x`updatedAt = ${now}`];
    const removes: string[] = [];
    for (const field of ['url', 'description', 'eventTypes', 'enabled', 'secrets'] as const) {
      const value = changes[field];
      if (value !== undefined) sets.push(x`${name(field)} = ${value}`);
    }
    for (const field of ['disabledReason', 'failingSince'] as const) {
      const value = changes[field];
      if (value === null) removes.push(field);
      else if (value !== undefined) sets.push(x`${name(field)} = ${value}`);
    }
    const update = x`SET ${join(sets, ', ')}${
      removes.length > 0
        ? x` REMOVE ${join(
            removes.map((r) => x`${name(r)}`),
            ', ',
          )}`
        : x``
    }`;
    const condition = x`attribute_exists(PK) AND version = ${current.version}`;
    if (events.length === 0) {
      const result = await this.table.update(endpointKey(current.id), { update, condition });
      return result.ok ? storedEndpoint(result.item).endpoint : undefined;
    }
    const outcome = await this.table.transact(
      [
        this.table.updateItem(endpointKey(current.id), { update, condition }),
        ...events.map((event) => this.outbox.put(event)),
      ],
      { onContention: WebhooksErrors.busy },
    );
    if (!outcome.ok) return undefined;
    return (await this.getEndpoint(current.id))?.endpoint;
  }

  async deleteEndpoint(id: string): Promise<boolean> {
    const result = await this.table.delete(endpointKey(id), x`attribute_exists(PK)`);
    return result.ok;
  }

  async markFailing(id: string, since: string): Promise<WebhookEndpoint | undefined> {
    const result = await this.table.update(endpointKey(id), {
      update: x`SET failingSince = if_not_exists(failingSince, ${since})`,
      condition: x`attribute_exists(PK)`,
    });
    return result.ok ? storedEndpoint(result.item).endpoint : undefined;
  }

  async clearFailing(id: string): Promise<void> {
    // Only when set: most successes then cost a failed condition, not a write.
    await this.table.update(endpointKey(id), {
      update: x`REMOVE failingSince`,
      condition: x`attribute_exists(failingSince)`,
    });
  }

  async openDelivery(
    endpointId: string,
    event: DomainEvent,
    now: string,
  ): Promise<{ delivery: Delivery; created: boolean }> {
    const item = deliveryItem(
      {
        endpointId,
        eventId: event.id,
        eventType: event.type,
        occurredAt: event.occurredAt,
        status: 'pending',
        attempts: 0,
        round: 1,
        nextAttemptAt: now,
        updatedAt: now,
      },
      this.expiresAt(event.occurredAt),
    );
    const result = await this.table.putIfAbsent(item);
    return result.created
      ? { delivery: toDelivery(item), created: true }
      : { delivery: toDelivery(result.existing ?? item), created: false };
  }

  async watchLater(delivery: Delivery, watchAt: string): Promise<boolean> {
    const result = await this.table.update(deliveryKey(delivery.endpointId, delivery.eventId), {
      update: x`SET GSI1SK = ${dueSort(watchAt, delivery.endpointId, delivery.eventId)}`,
      condition: stillAt(delivery),
    });
    return result.ok;
  }

  async getDelivery(endpointId: string, eventId: string): Promise<Delivery | undefined> {
    const item = await this.table.get(deliveryKey(endpointId, eventId));
    return item ? toDelivery(item) : undefined;
  }

  async reopenDelivery(endpointId: string, event: DomainEvent, now: string): Promise<Delivery> {
    const result = await this.table.update(deliveryKey(endpointId, event.id), {
      update: x`SET endpointId = ${endpointId}, eventId = ${event.id}, eventType = ${event.type}, occurredAt = ${event.occurredAt}, ${name('status')} = ${'pending'}, attempts = ${0}, ${name('round')} = if_not_exists(${name('round')}, ${0}) + ${1}, nextAttemptAt = ${now}, updatedAt = ${now}, GSI1PK = ${DUE}, GSI1SK = ${dueSort(now, endpointId, event.id)}, expiresAt = ${this.expiresAt(event.occurredAt)} REMOVE lastStatusCode, lastError`,
    });
    if (!result.ok) throw new Error('an unconditional delivery update failed');
    return toDelivery(result.item);
  }

  async claimAttempt(delivery: Delivery, leaseUntil: string, now: string): Promise<boolean> {
    const result = await this.table.update(deliveryKey(delivery.endpointId, delivery.eventId), {
      update: x`SET attempts = ${delivery.attempts + 1}, nextAttemptAt = ${leaseUntil}, updatedAt = ${now}, GSI1SK = ${dueSort(leaseUntil, delivery.endpointId, delivery.eventId)}`,
      condition: stillAt(delivery),
    });
    return result.ok;
  }

  async settleDelivery(
    delivery: Delivery,
    outcome:
      | { readonly status: 'pending'; readonly nextAttemptAt: string }
      | { readonly status: 'succeeded' | 'failed' | 'abandoned' },
    last: { readonly statusCode?: number | undefined; readonly error?: string | undefined },
    now: string,
  ): Promise<boolean> {
    const sets: Fragment[] = [x`${name('status')} = ${outcome.status}`, x`updatedAt = ${now}`];
    const removes: string[] = [];
    if (outcome.status === 'pending') {
      sets.push(
        x`nextAttemptAt = ${outcome.nextAttemptAt}`,
        x`GSI1SK = ${dueSort(outcome.nextAttemptAt, delivery.endpointId, delivery.eventId)}`,
      );
    } else removes.push('nextAttemptAt', 'GSI1PK', 'GSI1SK');
    if (last.statusCode !== undefined) sets.push(x`lastStatusCode = ${last.statusCode}`);
    else removes.push('lastStatusCode');
    if (last.error !== undefined) sets.push(x`lastError = ${last.error}`);
    else removes.push('lastError');
    const result = await this.table.update(deliveryKey(delivery.endpointId, delivery.eventId), {
      update: x`SET ${join(sets, ', ')} REMOVE ${join(
        removes.map((r) => x`${name(r)}`),
        ', ',
      )}`,
      condition: stillAt(delivery),
    });
    return result.ok;
  }

  async dueDeliveries(
    before: string,
    limit: number,
    after: string,
  ): Promise<(Delivery & { readonly watchKey: string })[]> {
    for await (const items of this.table.queryPages(
      {
        index: webhooksKeys.index,
        key: x`GSI1PK = ${DUE} AND GSI1SK BETWEEN ${`${after}\u0000`} AND ${before}`,
      },
      limit,
    )) {
      return items.map((item) => ({ ...toDelivery(item), watchKey: String(item.GSI1SK) }));
    }
    return [];
  }

  async recordAttempt(attempt: DeliveryAttempt, expiresAt: number): Promise<void> {
    await this.table.putIfAbsent(
      {
        PK: `EP#${attempt.endpointId}`,
        SK: `ATT#${attempt.attemptedAt}#${attempt.eventId}#${attempt.round}#${attempt.attempt}`,
        type: 'attempt',
        ...withoutUndefined(attempt),
        expiresAt,
      },
      'SK',
    );
  }

  listAttempts(endpointId: string, page: PageRequest): Promise<Page<DeliveryAttempt>> {
    return this.table.queryPage(
      `webhook-attempts:${endpointId}`,
      { key: x`PK = ${`EP#${endpointId}`} AND begins_with(SK, ${'ATT#'})`, forward: false },
      page,
      toAttempt,
    );
  }
}

/** The delivery is still in the round and at the attempt count this decision read. */
const stillAt = (delivery: Delivery): Fragment =>
  and(
    x`${name('status')} = ${'pending'}`,
    x`${name('round')} = ${delivery.round}`,
    x`attempts = ${delivery.attempts}`,
  );

const dueSort = (at: string, endpointId: string, eventId: string) =>
  `${at}#${endpointId}#${eventId}`;

function endpointItem(endpoint: WebhookEndpoint, secrets: readonly StoredSecret[]): Item {
  return {
    ...endpointKey(endpoint.id),
    type: 'endpoint',
    ...withoutUndefined(endpoint),
    secrets: secrets.map(withoutUndefined),
    GSI1PK: ENDPOINTS,
    GSI1SK: `${endpoint.createdAt}#${endpoint.id}`,
  };
}

function storedEndpoint(item: Item): StoredEndpoint {
  return {
    endpoint: {
      id: item.id,
      url: item.url,
      description: item.description ?? '',
      eventTypes: item.eventTypes ?? ['*'],
      enabled: item.enabled !== false,
      ...(item.disabledReason ? { disabledReason: item.disabledReason } : {}),
      ...(item.failingSince ? { failingSince: item.failingSince } : {}),
      createdAt: item.createdAt,
      updatedAt: item.updatedAt,
      version: Number(item.version ?? 1),
    },
    secrets: (item.secrets ?? []) as StoredSecret[],
  };
}

function deliveryItem(delivery: Delivery, expiresAt: number): Item {
  return {
    ...deliveryKey(delivery.endpointId, delivery.eventId),
    type: 'delivery',
    ...withoutUndefined(delivery),
    ...(delivery.status === 'pending' && delivery.nextAttemptAt
      ? {
          GSI1PK: DUE,
          GSI1SK: dueSort(delivery.nextAttemptAt, delivery.endpointId, delivery.eventId),
        }
      : {}),
    expiresAt,
  };
}

function toDelivery(item: Item): Delivery {
  return {
    endpointId: item.endpointId,
    eventId: item.eventId,
    eventType: item.eventType,
    occurredAt: item.occurredAt,
    status: item.status,
    attempts: Number(item.attempts ?? 0),
    round: Number(item.round ?? 1),
    ...(item.nextAttemptAt ? { nextAttemptAt: item.nextAttemptAt } : {}),
    updatedAt: item.updatedAt,
    ...(item.lastStatusCode !== undefined ? { lastStatusCode: Number(item.lastStatusCode) } : {}),
    ...(item.lastError ? { lastError: item.lastError } : {}),
  };
}

function toAttempt(item: Item): DeliveryAttempt {
  return {
    endpointId: item.endpointId,
    eventId: item.eventId,
    eventType: item.eventType,
    round: Number(item.round),
    attempt: Number(item.attempt),
    attemptedAt: item.attemptedAt,
    ok: Boolean(item.ok),
    ...(item.statusCode !== undefined ? { statusCode: Number(item.statusCode) } : {}),
    latencyMs: Number(item.latencyMs),
    responseExcerpt: item.responseExcerpt ?? '',
    ...(item.error ? { error: item.error } : {}),
    ...(item.nextAttemptAt ? { nextAttemptAt: item.nextAttemptAt } : {}),
  };
}

function withoutUndefined<T extends object>(value: T): Item {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
