import { badRequest, notFound } from '../../platform/errors.js';
import type { Logger } from '../../platform/logger.js';
import type { ModuleMetrics } from '../../platform/metrics/metrics.js';
import type { DomainEvent, Outbox } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import { PoisonMessageError, type Queue, type QueueMessage } from '../../platform/queue/queue.js';
import { WebhooksErrors } from './webhooks.errors.js';
import type {
  Delivery,
  DeliveryAttempt,
  DeliveryMessage,
  DeliveryRequest,
  DeliveryResult,
  DisabledReason,
  WebhookEndpoint,
} from './webhooks.model.js';
import type { EndpointChanges, StoredEndpoint, WebhookRepository } from './webhooks.repository.js';
import {
  afterAttempt,
  failedTooLong,
  rotated,
  signingSecrets,
  subscribes,
} from './webhooks.rules.js';

export interface WebhooksSettings {
  readonly attemptTimeoutSeconds: number;
  /** Delay before each attempt, seconds (STANDARD_RETRY_SCHEDULE by default). */
  readonly retrySchedule: readonly number[];
  readonly disableAfterFailingSeconds: number;
  readonly sweepGraceSeconds: number;
  readonly maxEndpoints: number;
  readonly replayMaxEvents: number;
}

export interface WebhooksDeps {
  readonly repository: WebhookRepository;
  readonly outbox: Outbox;
  readonly deliveries: Queue;
  readonly send: (request: DeliveryRequest) => Promise<DeliveryResult>;
  /** Why a URL may not be an endpoint (the deployment's target policy), or undefined. */
  readonly targetProblem: (url: string) => Promise<string | undefined>;
  readonly newSecret: () => Promise<string>;
  readonly seal: (secret: string) => Promise<string>;
  readonly open: (sealed: string) => Promise<string>;
  readonly clock: () => Date;
  readonly newId: () => string;
  readonly random: () => number;
  readonly logger: Logger;
  readonly metrics: ModuleMetrics;
  readonly settings: WebhooksSettings;
}

/** SQS's longest delay: a retry due later is re-delayed in steps until it is due. */
const MAX_DELAY_SECONDS = 900;
/** How many due items a sweep takes per page, and at most in one run. */
const SWEEP_PAGE = 100;
const SWEEP_LIMIT = 5000;
/** How long after the sweep sent a delivery's message again it may send it once more. */
const RESEND_AFTER_SECONDS = 300;
const ENDPOINT_EVENT = 'webhook_endpoint.disabled';
/** Sorts after every ISO timestamp: "whatever the time". */
const END_OF_TIME = '9999';

/**
 * Webhook endpoints and the delivery of domain events to them, at least once:
 *
 * - **dispatch** (consumer of the outbox's wake-ups): each committed event becomes one pending
 *   delivery per subscribed endpoint (created before the event), then leaves the outbox's
 *   pending index; each new delivery is a message on the delivery queue;
 * - **deliver** (consumer of that queue): claims the next attempt (a condition on the attempt
 *   count, so two copies of a message never both send), POSTs the event signed to the Standard
 *   Webhooks spec, records the attempt, and ends the delivery or schedules the next attempt
 *   (a delayed message; the schedule's delay with jitter, or a longer Retry-After);
 * - **sweep** (schedule; and at local start-up, when the in-process queues are empty): events
 *   still pending and deliveries whose attempt is overdue get their message again — the backstop
 *   for a lost send, a crash, a lost delayed message.
 */
export class WebhooksService {
  constructor(private readonly deps: WebhooksDeps) {}

  eventTypes() {
    return this.deps.outbox.catalogue.map(({ type, description }) => ({ type, description }));
  }

  async createEndpoint(input: {
    url: string;
    eventTypes: readonly string[];
    description?: string | undefined;
  }): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    await this.checkTarget(input.url);
    this.checkTypes(input.eventTypes);
    if ((await this.deps.repository.countEndpoints()) >= this.deps.settings.maxEndpoints) {
      throw WebhooksErrors.tooManyEndpoints(this.deps.settings.maxEndpoints);
    }
    const now = this.now();
    const secret = await this.deps.newSecret();
    const endpoint: WebhookEndpoint = {
      id: this.deps.newId(),
      url: input.url,
      description: input.description ?? '',
      eventTypes: [...input.eventTypes],
      enabled: true,
      createdAt: now,
      updatedAt: now,
      version: 1,
    };
    await this.deps.repository.createEndpoint(endpoint, [
      { sealed: await this.deps.seal(secret), createdAt: now },
    ]);
    this.deps.metrics.count('WebhookEndpointCreated');
    return { endpoint, secret };
  }

  async getEndpoint(id: string): Promise<WebhookEndpoint> {
    return (await this.stored(id)).endpoint;
  }

  listEndpoints(page: PageRequest): Promise<Page<WebhookEndpoint>> {
    return this.deps.repository.listEndpoints(page);
  }

  async updateEndpoint(id: string, changes: EndpointChanges): Promise<WebhookEndpoint> {
    if (changes.url !== undefined) await this.checkTarget(changes.url);
    if (changes.eventTypes !== undefined) this.checkTypes(changes.eventTypes);
    for (;;) {
      const { endpoint } = await this.stored(id);
      const flags =
        changes.enabled === undefined || changes.enabled === endpoint.enabled
          ? {}
          : changes.enabled
            ? // Enabled again: a fresh start, no streak of failures behind it.
              { disabledReason: null, failingSince: null }
            : { disabledReason: 'owner' as const };
      const written = await this.deps.repository.updateEndpoint(
        endpoint,
        { ...changes, ...flags },
        this.now(),
      );
      if (written) return written;
    }
  }

  async deleteEndpoint(id: string): Promise<void> {
    if (!(await this.deps.repository.deleteEndpoint(id))) throw WebhooksErrors.endpointNotFound(id);
  }

  /** A new signing secret, shown once; the previous one keeps signing for 24 hours. */
  async rotateSecret(id: string): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const secret = await this.deps.newSecret();
    for (;;) {
      const stored = await this.stored(id);
      const now = this.deps.clock();
      const secrets = rotated(
        stored.secrets,
        { sealed: await this.deps.seal(secret), createdAt: now.toISOString() },
        now,
      );
      const endpoint = await this.deps.repository.updateEndpoint(
        stored.endpoint,
        { secrets },
        now.toISOString(),
      );
      if (endpoint) return { endpoint, secret };
    }
  }

  async listAttempts(id: string, page: PageRequest): Promise<Page<DeliveryAttempt>> {
    await this.stored(id);
    return this.deps.repository.listAttempts(id, page);
  }

  async getDelivery(id: string, eventId: string): Promise<Delivery> {
    const delivery = await this.deps.repository.getDelivery(id, eventId);
    if (!delivery)
      throw notFound('WEBHOOKS.DELIVERY_NOT_FOUND', `No delivery of ${eventId} to ${id}.`);
    return delivery;
  }

  /**
   * Sends events again to one endpoint: one event by id, or every event of a window it subscribes
   * to (at most `replayMaxEvents`, else nothing is sent and the answer says so). Each starts a new
   * round of its delivery, with the same `webhook-id`, so a receiver that had it can tell.
   */
  async replay(
    id: string,
    what: { eventId: string } | { since: string; until: string },
  ): Promise<{ replayed: number }> {
    const { endpoint } = await this.stored(id);
    let events: DomainEvent[];
    if ('eventId' in what) {
      const event = await this.deps.outbox.get(what.eventId);
      if (!event) throw WebhooksErrors.eventNotFound(what.eventId);
      events = [event];
    } else {
      const max = this.deps.settings.replayMaxEvents;
      events = [];
      for await (const page of this.deps.outbox.window(
        new Date(what.since),
        new Date(what.until),
      )) {
        events.push(...page.filter((event) => subscribes(endpoint.eventTypes, event.type)));
        if (events.length > max) throw WebhooksErrors.windowTooLarge(max);
      }
    }
    if (!endpoint.enabled) {
      throw badRequest(
        'WEBHOOKS.ENDPOINT_DISABLED',
        `Endpoint ${id} is disabled; enable it first.`,
      );
    }
    const messages: string[] = [];
    for (const event of events) {
      const delivery = await this.deps.repository.reopenDelivery(id, event, this.now());
      messages.push(messageOf(delivery));
    }
    await this.sendMessages(messages);
    this.deps.metrics.count('WebhookReplayed', events.length);
    return { replayed: events.length };
  }

  /** Consumer of the outbox's wake-ups: `{ eventIds }`. */
  async dispatch(message: QueueMessage): Promise<void> {
    const ids = parse(message, (body) =>
      Array.isArray(body?.eventIds) && body.eventIds.every((id: unknown) => typeof id === 'string')
        ? (body.eventIds as string[])
        : undefined,
    );
    const events = await this.deps.outbox.getMany(ids);
    await this.dispatchEvents(events);
  }

  /** Consumer of the delivery queue: one attempt of one delivery, if one is due. */
  async deliver(message: QueueMessage): Promise<void> {
    const wanted = parse(message, (body) =>
      typeof body?.endpointId === 'string' &&
      typeof body.eventId === 'string' &&
      Number.isInteger(body.round)
        ? (body as unknown as DeliveryMessage)
        : undefined,
    );
    const { repository } = this.deps;
    const delivery = await repository.getDelivery(wanted.endpointId, wanted.eventId);
    if (delivery?.status !== 'pending' || delivery.round !== wanted.round) return;
    const now = this.deps.clock();
    const wait = delivery.nextAttemptAt ? Date.parse(delivery.nextAttemptAt) - now.getTime() : 0;
    if (wait > 1000) {
      // Not due yet (a long retry delay, or another attempt holds the lease): wait again.
      await this.deps.deliveries.send(message.body, {
        delaySeconds: Math.min(MAX_DELAY_SECONDS, Math.ceil(wait / 1000)),
      });
      return;
    }
    const [stored, event] = await Promise.all([
      repository.getEndpoint(delivery.endpointId),
      this.deps.outbox.get(delivery.eventId),
    ]);
    if (!stored?.endpoint.enabled || !event) {
      const error = !stored
        ? 'endpoint deleted'
        : !stored.endpoint.enabled
          ? 'endpoint disabled'
          : 'event no longer in the log';
      await repository.settleDelivery(
        delivery,
        { status: 'abandoned' },
        { error },
        now.toISOString(),
      );
      return;
    }
    // Opened before the lease is taken: keys that can't be had now leave the delivery due.
    const secrets = await Promise.all(
      signingSecrets(stored.secrets, now).map((s) => this.deps.open(s.sealed)),
    );
    // The lease: while this attempt runs, the delivery is due only after it could have ended,
    // so a sweep does not send it again meanwhile (and if this process dies, it does after).
    const timeoutMs = this.deps.settings.attemptTimeoutSeconds * 1000;
    const leaseUntil = new Date(now.getTime() + 2 * timeoutMs + 5000).toISOString();
    if (!(await repository.claimAttempt(delivery, leaseUntil, now.toISOString()))) return;
    const claimed: Delivery = { ...delivery, attempts: delivery.attempts + 1 };

    const result = await this.deps.send({
      url: stored.endpoint.url,
      webhookId: event.id,
      timestamp: now,
      body: JSON.stringify(event),
      secrets,
      timeoutMs,
    });
    const outcome = afterAttempt(
      result,
      claimed.attempts,
      this.deps.settings.retrySchedule,
      this.deps.random(),
    );
    const done = this.deps.clock();
    const nextAttemptAt =
      outcome.kind === 'retry'
        ? new Date(done.getTime() + outcome.delaySeconds * 1000).toISOString()
        : undefined;
    const error = result.error
      ? `${result.error}${result.errorMessage ? `: ${result.errorMessage}` : ''}`
      : undefined;
    await repository.recordAttempt(
      {
        endpointId: claimed.endpointId,
        eventId: claimed.eventId,
        eventType: claimed.eventType,
        round: claimed.round,
        attempt: claimed.attempts,
        attemptedAt: now.toISOString(),
        ok: result.ok,
        statusCode: result.status,
        latencyMs: Math.round(result.latencyMs),
        responseExcerpt: result.excerpt,
        error,
        nextAttemptAt,
      },
      this.deps.outbox.expiresAt(event),
    );
    const last = { statusCode: result.status, error };
    const at = done.toISOString();
    switch (outcome.kind) {
      case 'succeeded':
        await repository.settleDelivery(claimed, { status: 'succeeded' }, last, at);
        if (stored.endpoint.failingSince) await repository.clearFailing(stored.endpoint.id);
        this.deps.metrics.count('WebhookDelivered');
        return;
      case 'gone':
        await repository.settleDelivery(claimed, { status: 'abandoned' }, last, at);
        await this.disable(stored.endpoint.id, 'gone');
        return;
      case 'exhausted':
        await repository.settleDelivery(claimed, { status: 'failed' }, last, at);
        this.deps.metrics.count('WebhookDeliveryFailed');
        break;
      case 'retry':
        if (nextAttemptAt) {
          await repository.settleDelivery(claimed, { status: 'pending', nextAttemptAt }, last, at);
          await this.deps.deliveries.send(messageOf(claimed), {
            delaySeconds: Math.min(MAX_DELAY_SECONDS, Math.ceil(outcome.delaySeconds)),
          });
        }
        break;
    }
    // A streak already running needs no write (most failures of a failing endpoint).
    const failing = stored.endpoint.failingSince
      ? stored.endpoint
      : await repository.markFailing(stored.endpoint.id, now.toISOString());
    if (
      failing?.enabled &&
      failedTooLong(failing.failingSince, done, this.deps.settings.disableAfterFailingSeconds)
    ) {
      await this.disable(failing.id, 'failing');
    }
  }

  /**
   * The backstop: hands on events the outbox still holds as pending and sends again deliveries
   * whose attempt is overdue, if older than the grace period (their own message is probably on its
   * way) — or, with `all` (the local runtime's start, its queues empty), every one of them.
   */
  async sweep(options: { all: boolean }): Promise<{ events: number; deliveries: number }> {
    const now = this.deps.clock().getTime();
    const grace = options.all ? 0 : this.deps.settings.sweepGraceSeconds * 1000;
    const cutoff = new Date(now - grace).toISOString();
    // Events still pending get a wake-up again: the dispatcher (the queue's consumer, in
    // parallel) hands them on, so a sweep — at local start-up, before the API listens — stays
    // short however many there are. Each one woken is looked at again only RESEND_AFTER_SECONDS
    // later (it moves past `before`), so a backlog longer than the grace is not multiplied.
    const watchAt = new Date(now + RESEND_AFTER_SECONDS * 1000).toISOString();
    const before = options.all ? watchAt : cutoff;
    let events = 0;
    while (events < SWEEP_LIMIT) {
      const page = await this.deps.outbox.pending(before, SWEEP_PAGE);
      if (page.length === 0) break;
      await this.deps.outbox.revisitLater(page, watchAt);
      await this.deps.outbox.announce(page);
      events += page.length;
    }
    // At start-up every pending delivery due in the next RESEND_AFTER_SECONDS gets its message
    // back, due or not (a message not yet due is delayed again by `deliver`): the delayed
    // messages died with the process. Each one sent again is looked at next only that much
    // later, so a queue backlog longer than the grace is not multiplied by every sweep.
    // (Later ones are sent again when overdue.) Those just moved to `watchAt` are past `before`.
    let deliveries = 0;
    let after = '';
    while (deliveries < SWEEP_LIMIT) {
      const page = await this.deps.repository.dueDeliveries(before, SWEEP_PAGE, after);
      if (page.length === 0) break;
      const moved = await Promise.all(
        page.map((delivery) => this.deps.repository.watchLater(delivery, watchAt)),
      );
      const resend = page.filter((_, i) => moved[i]);
      await this.sendMessages(resend.map(messageOf));
      deliveries += resend.length;
      after = page[page.length - 1]?.watchKey ?? END_OF_TIME;
    }
    if (events + deliveries > 0) {
      this.deps.logger.info('webhook sweep', { events, deliveries, all: options.all });
    }
    return { events, deliveries };
  }

  private async dispatchEvents(events: readonly DomainEvent[]): Promise<void> {
    if (events.length === 0) return;
    const endpoints = (await this.deps.repository.allEndpoints()).filter(
      (stored) => stored.endpoint.enabled,
    );
    await Promise.all(
      events.map(async (event) => {
        const targets = endpoints.filter(
          // An endpoint receives what happens after it exists; earlier events only by replay.
          ({ endpoint }) =>
            endpoint.createdAt <= event.occurredAt && subscribes(endpoint.eventTypes, event.type),
        );
        const opened = await Promise.all(
          targets.map(({ endpoint }) =>
            this.deps.repository.openDelivery(endpoint.id, event, this.now()),
          ),
        );
        // Only a delivery made here gets its message here: one that existed already (a second
        // dispatch of the event) has had its message, or the sweep sends it again once overdue.
        await this.sendMessages(
          opened.filter(({ created }) => created).map(({ delivery }) => messageOf(delivery)),
        );
        await this.deps.outbox.handedOn(event.id);
      }),
    );
  }

  private async disable(id: string, reason: DisabledReason): Promise<void> {
    for (;;) {
      const stored = await this.deps.repository.getEndpoint(id);
      if (!stored?.endpoint.enabled) return;
      const { endpoint } = stored;
      const after = {
        ...endpoint,
        enabled: false,
        disabledReason: reason,
        version: endpoint.version + 1,
        updatedAt: this.now(),
      };
      const event = this.deps.outbox.event(
        ENDPOINT_EVENT,
        { type: 'webhook_endpoint', id, sequence: after.version },
        after,
        after.updatedAt,
      );
      const written = await this.deps.repository.updateEndpoint(
        endpoint,
        { enabled: false, disabledReason: reason },
        after.updatedAt,
        [event],
      );
      if (written) {
        this.deps.logger.warn('webhook endpoint disabled', { endpointId: id, reason });
        this.deps.metrics.count('WebhookEndpointDisabled');
        await this.deps.outbox.announce([event]);
        return;
      }
    }
  }

  private async sendMessages(messages: readonly string[]): Promise<void> {
    if (messages.length > 0) await this.deps.deliveries.sendBatch(messages);
  }

  private async stored(id: string): Promise<StoredEndpoint> {
    const stored = await this.deps.repository.getEndpoint(id);
    if (!stored) throw WebhooksErrors.endpointNotFound(id);
    return stored;
  }

  private async checkTarget(url: string): Promise<void> {
    const problem = await this.deps.targetProblem(url);
    if (problem) throw WebhooksErrors.targetRefused(problem);
  }

  private checkTypes(types: readonly string[]): void {
    const known = new Set(this.deps.outbox.catalogue.map((entry) => entry.type));
    const unknown = types.filter((type) => type !== '*' && !known.has(type));
    if (unknown.length > 0) throw WebhooksErrors.unknownEventTypes(unknown);
  }

  private now(): string {
    return this.deps.clock().toISOString();
  }
}

const messageOf = (delivery: Delivery): string =>
  JSON.stringify({
    endpointId: delivery.endpointId,
    eventId: delivery.eventId,
    round: delivery.round,
  } satisfies DeliveryMessage);

function parse<T>(
  message: QueueMessage,
  read: (body: Record<string, unknown>) => T | undefined,
): T {
  let body: unknown;
  try {
    body = JSON.parse(message.body);
  } catch {
    throw new PoisonMessageError('not JSON');
  }
  const value = read((body ?? {}) as Record<string, unknown>);
  if (value === undefined) throw new PoisonMessageError('not a message of this queue');
  return value;
}
