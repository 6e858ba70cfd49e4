import type { DomainEvent } from '../../platform/outbox/outbox.js';
import type { Page, PageRequest } from '../../platform/page.js';
import type {
  Delivery,
  DeliveryAttempt,
  DisabledReason,
  StoredSecret,
  WebhookEndpoint,
} from './webhooks.model.js';

/** An endpoint with its stored (sealed) secrets, as the service reads it. */
export interface StoredEndpoint {
  readonly endpoint: WebhookEndpoint;
  readonly secrets: readonly StoredSecret[];
}

export interface EndpointChanges {
  readonly url?: string | undefined;
  readonly description?: string | undefined;
  readonly eventTypes?: readonly string[] | undefined;
  readonly enabled?: boolean | undefined;
}

/**
 * The webhooks port: endpoints, the delivery of each event to each endpoint, and the log of
 * attempts. Every write that decides something is conditioned on what the decision read (an
 * endpoint's version, a delivery's attempt count), so concurrent consumers never both win.
 */
export interface WebhookRepository {
  createEndpoint(endpoint: WebhookEndpoint, secrets: readonly StoredSecret[]): Promise<void>;
  getEndpoint(id: string): Promise<StoredEndpoint | undefined>;
  /** Endpoints, oldest first (an index; a moment behind the latest writes). */
  listEndpoints(page: PageRequest): Promise<Page<WebhookEndpoint>>;
  /** Every endpoint (for dispatching an event): all pages of the list. */
  allEndpoints(): Promise<StoredEndpoint[]>;
  countEndpoints(): Promise<number>;
  /**
   * Applies changes (and `secrets`, when given) if the endpoint is still at `version`; answers the
   * endpoint as written, or undefined when it changed or is gone. `events` commit with it.
   */
  updateEndpoint(
    current: WebhookEndpoint,
    changes: EndpointChanges & {
      readonly secrets?: readonly StoredSecret[];
      readonly disabledReason?: DisabledReason | null;
      readonly failingSince?: string | null;
    },
    now: string,
    events?: readonly DomainEvent[],
  ): Promise<WebhookEndpoint | undefined>;
  deleteEndpoint(id: string): Promise<boolean>;
  /** Records the start of a failing streak (kept if one is already running). */
  markFailing(id: string, since: string): Promise<WebhookEndpoint | undefined>;
  /** Ends a failing streak (a delivery succeeded). */
  clearFailing(id: string): Promise<void>;

  /**
   * A pending delivery of `event` to an endpoint, unless one exists; answers the one stored and
   * whether this call made it.
   */
  openDelivery(
    endpointId: string,
    event: DomainEvent,
    now: string,
  ): Promise<{ delivery: Delivery; created: boolean }>;
  /**
   * Moves a pending delivery's place in the due index (what the sweep reads) to `watchAt`,
   * leaving when its attempt is due unchanged, if it is still in the round and at the attempt
   * count read. The sweep calls it for each delivery whose message it sends again, so that a
   * backlog longer than the sweep's grace is not sent again at every sweep.
   */
  watchLater(delivery: Delivery, watchAt: string): Promise<boolean>;
  getDelivery(endpointId: string, eventId: string): Promise<Delivery | undefined>;
  /** Starts a new round of a delivery (a replay): pending, attempts 0, due now. */
  reopenDelivery(endpointId: string, event: DomainEvent, now: string): Promise<Delivery>;
  /**
   * Claims the next attempt: attempts + 1 and the due time pushed to `leaseUntil`, if the delivery
   * is still pending in `round` with `attempts` made. False when another consumer got there first.
   */
  claimAttempt(delivery: Delivery, leaseUntil: string, now: string): Promise<boolean>;
  /** Ends or reschedules a delivery after attempt `attempts` of its round (if still that one). */
  settleDelivery(
    delivery: Delivery,
    outcome:
      | { readonly status: 'pending'; readonly nextAttemptAt: string }
      | { readonly status: 'succeeded' | 'failed' | 'abandoned' },
    last: { readonly statusCode?: number | undefined; readonly error?: string | undefined },
    now: string,
  ): Promise<boolean>;
  /**
   * Pending deliveries whose place in the due index is before `before`, soonest first, after the
   * place `after` ('' from the start); each with its place (`watchKey`), for the next page.
   */
  dueDeliveries(
    before: string,
    limit: number,
    after: string,
  ): Promise<(Delivery & { readonly watchKey: string })[]>;

  recordAttempt(attempt: DeliveryAttempt, expiresAt: number): Promise<void>;
  /** The attempt log of an endpoint, newest first. */
  listAttempts(endpointId: string, page: PageRequest): Promise<Page<DeliveryAttempt>>;
}
