import { AppError, conflict, notFound, unavailable } from '../../platform/errors.js';

/** Stable codes for everything the webhooks module answers with besides success. */
export const WebhooksErrors = {
  endpointNotFound: (id: string) =>
    notFound('WEBHOOKS.ENDPOINT_NOT_FOUND', `Webhook endpoint ${id} does not exist.`),
  eventNotFound: (id: string) =>
    notFound('WEBHOOKS.EVENT_NOT_FOUND', `Domain event ${id} is not in the event log.`),
  targetRefused: (reason: string) =>
    new AppError('validation', 'WEBHOOKS.TARGET_REFUSED', 'Unprocessable Content', {
      detail: `This URL may not receive webhooks: ${reason}.`,
      errors: [{ path: 'body.url', message: reason }],
    }),
  unknownEventTypes: (types: readonly string[]) =>
    new AppError('validation', 'WEBHOOKS.UNKNOWN_EVENT_TYPES', 'Unprocessable Content', {
      detail: `Unknown event types: ${types.join(', ')} (GET /webhooks/event-types lists them).`,
      errors: types.map((type) => ({ path: 'body.eventTypes', message: `unknown: ${type}` })),
    }),
  tooManyEndpoints: (max: number) =>
    conflict('WEBHOOKS.TOO_MANY_ENDPOINTS', `At most ${max} webhook endpoints may exist.`),
  windowTooLarge: (max: number) =>
    new AppError('validation', 'WEBHOOKS.REPLAY_WINDOW_TOO_LARGE', 'Unprocessable Content', {
      detail: `The window holds more than ${max} events for this endpoint; replay a shorter one.`,
      errors: [{ path: 'body', message: `more than ${max} events` }],
    }),
  busy: (cause?: unknown) =>
    unavailable(
      'WEBHOOKS.BUSY',
      'Too many concurrent changes to the same endpoint; retry after the indicated delay.',
      1,
      cause,
    ),
} satisfies Record<string, (...args: never[]) => AppError>;
