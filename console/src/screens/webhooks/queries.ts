import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { type Schemas, unwrap } from '../../api/client';
import { itemsOf, pagedQuery } from '../../api/pages';
import { useApi } from '../../auth/session';

export type Endpoint = Schemas['WebhookEndpoint'];
export type EndpointWithSecret = Schemas['WebhookEndpointWithSecret'];
export type DeliveryAttempt = Schemas['WebhookDeliveryAttempt'];
export type Delivery = Schemas['WebhookDelivery'];
export type EventType = Schemas['DomainEventType'];

/** The subscription to every event type, those added later included. */
export const ALL_EVENTS = '*';

/** The console's path of an endpoint. */
export const endpointPath = (id: string) => `/webhooks/${encodeURIComponent(id)}`;

/** Query keys: everything of the webhooks module sits under ['webhooks']. */
export const keys = {
  lists: ['webhooks', 'list'] as const,
  eventTypes: ['webhooks', 'event-types'] as const,
  endpoint: (id: string) => ['webhooks', 'one', id] as const,
  attempts: (id: string) => ['webhooks', 'attempts', id] as const,
};

/**
 * The endpoint as the query cache may hold it: a create or a rotation answers with the secret,
 * which is shown once and kept nowhere, the cache included.
 */
export function withoutSecret({ secret: _secret, ...endpoint }: EndpointWithSecret): Endpoint {
  return endpoint;
}

/** The event types an endpoint receives, as people read them. */
export const typesText = (types: readonly string[]): string =>
  types.includes(ALL_EVENTS) ? 'All events' : types.join(', ');

/** Why an endpoint is disabled, in words (`disabledReason`). */
export const DISABLED_BECAUSE: Record<NonNullable<Endpoint['disabledReason']>, string> = {
  owner: 'by its owner',
  gone: 'it answered 410 Gone',
  failing: 'every attempt failed for days on end',
};

/** The short name of an endpoint: its URL's host (the whole URL if it has none). */
export function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

/**
 * When the delivery log asks the API again on its own: every second for a while after a replay
 * (its attempts are on their way), and every 2 s while an attempt it shows has its next attempt
 * due within the minute. A retry hours away is not worth a request every few seconds.
 */
export function attemptsPollInterval(
  attempts: readonly DeliveryAttempt[],
  watchUntil: number | undefined,
  now: number,
): number | false {
  if (watchUntil !== undefined && now < watchUntil) return 1_000;
  const soon = attempts.some((attempt) => {
    const due = attempt.nextAttemptAt ? Date.parse(attempt.nextAttemptAt) : Number.NaN;
    return due > now - 5_000 && due < now + 60_000;
  });
  return soon ? 2_000 : false;
}

export function useEndpoints() {
  const api = useApi();
  return useInfiniteQuery(
    pagedQuery(keys.lists, (cursor, signal) =>
      api.GET('/webhooks', { params: { query: { cursor } }, signal }),
    ),
  );
}

export function useEndpoint(id: string) {
  const api = useApi();
  return useQuery({
    queryKey: keys.endpoint(id),
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/webhooks/{id}', { params: { path: { id } }, signal }))).data,
  });
}

/** The catalogue of event types: fixed for a deployment, so read once per session. */
export function useEventTypes() {
  const api = useApi();
  return useQuery({
    queryKey: keys.eventTypes,
    queryFn: async ({ signal }) =>
      (await unwrap(api.GET('/webhooks/event-types', { signal }))).data,
    staleTime: Number.POSITIVE_INFINITY,
  });
}

/** The delivery log of an endpoint, newest first, page by page. */
export function useAttempts(id: string, watchUntil: number | undefined) {
  const api = useApi();
  return useInfiniteQuery({
    ...pagedQuery(keys.attempts(id), (cursor, signal) =>
      api.GET('/webhooks/{id}/deliveries', {
        params: { path: { id }, query: { cursor } },
        signal,
      }),
    ),
    refetchInterval: (query) =>
      attemptsPollInterval(itemsOf(query.state.data?.pages), watchUntil, Date.now()),
  });
}
