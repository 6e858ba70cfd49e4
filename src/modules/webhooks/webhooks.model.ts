/**
 * Webhook endpoints (account-wide subscriptions to domain events) and the deliveries of events to
 * them. An endpoint's signing secrets are never part of the model the API returns: they are
 * shown once, when made (creation, rotation).
 */

export interface WebhookEndpoint {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  /** Domain event types it receives; `*` means all. */
  readonly eventTypes: string[];
  readonly enabled: boolean;
  /** Why it was disabled, when it was disabled by Roster (not by its owner). */
  readonly disabledReason?: DisabledReason | undefined;
  /** Since when every attempt to it has failed (absent after a success). */
  readonly failingSince?: string | undefined;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** 1 when created, one more per change: the sequence of its domain events. */
  readonly version: number;
}

export const disabledReasons = ['gone', 'failing', 'owner'] as const;
/** `gone`: it answered 410; `failing`: every attempt failed for days; `owner`: set by a PATCH. */
export type DisabledReason = (typeof disabledReasons)[number];

/** A signing secret as stored: encrypted, with the moment it stops signing (rotation). */
export interface StoredSecret {
  /** `whsec_…`, encrypted with the deployment's key (rules: sealSecret/openSecret). */
  readonly sealed: string;
  readonly createdAt: string;
  /** After rotation, the old secret keeps signing until this moment (24 h). */
  readonly expiresAt?: string | undefined;
}

export const deliveryStatuses = ['pending', 'succeeded', 'failed', 'abandoned'] as const;
/**
 * `pending`: an attempt is due at `nextAttemptAt` (or running); `succeeded`: a 2xx came back;
 * `failed`: every attempt of the schedule failed; `abandoned`: the endpoint was disabled or the
 * event left the log before it could be delivered.
 */
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/** One event on its way to one endpoint. `round` grows with each replay of it. */
export interface Delivery {
  readonly endpointId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly occurredAt: string;
  readonly status: DeliveryStatus;
  /** Attempts made in this round. */
  readonly attempts: number;
  readonly round: number;
  readonly nextAttemptAt?: string | undefined;
  readonly updatedAt: string;
  readonly lastStatusCode?: number | undefined;
  readonly lastError?: string | undefined;
}

/** One attempt, as the delivery log shows it. */
export interface DeliveryAttempt {
  readonly endpointId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly round: number;
  /** 1 for the first attempt of the round. */
  readonly attempt: number;
  readonly attemptedAt: string;
  readonly ok: boolean;
  readonly statusCode?: number | undefined;
  readonly latencyMs: number;
  /** The start of the response body (500 characters at most). */
  readonly responseExcerpt: string;
  readonly error?: string | undefined;
  /** When the next attempt is due, if one is. */
  readonly nextAttemptAt?: string | undefined;
}

/** The wake-up that asks the delivery consumer to attempt one delivery. */
export interface DeliveryMessage {
  readonly endpointId: string;
  readonly eventId: string;
  readonly round: number;
}

/** One attempt's request, as the sender (webhooks.delivery.ts) makes it. */
export interface DeliveryRequest {
  readonly url: string;
  /** The webhook-id header: the domain event's id, the same on every attempt. */
  readonly webhookId: string;
  /** The webhook-timestamp header, in whole seconds. */
  readonly timestamp: Date;
  /** The JSON payload, sent and signed byte for byte as given. */
  readonly body: string;
  /** 'whsec_…' secrets: one v1 signature each in webhook-signature, so a rotation can overlap. */
  readonly secrets: readonly string[];
  /** The whole attempt: name lookup, connect, TLS, response head and the body excerpt. */
  readonly timeoutMs: number;
}

export type DeliveryError = 'timeout' | 'refused-target' | 'redirect' | 'connection' | 'tls';

/** What came of an attempt. */
export interface DeliveryResult {
  /** 2xx */
  readonly ok: boolean;
  /** HTTP status, when a response came. */
  readonly status?: number;
  readonly latencyMs: number;
  /** First 500 characters of the response body (UTF-8, never more than 1 KiB read). '' when none. */
  readonly excerpt: string;
  /** From a Retry-After header (seconds or HTTP-date), on any non-2xx response; capped at 86400. */
  readonly retryAfterSeconds?: number;
  /** Why no usable response came. */
  readonly error?: DeliveryError;
  readonly errorMessage?: string;
}
