import * as z from 'zod/mini';
import { ClientIdSchema as IdSchema } from '../../platform/ids.js';
import { strictBody, withMeta } from '../../platform/input.js';

/* The waiting room's HTTP shapes (docs/decisions/sharded-capacity.md, *Admission control*). */

export const JoinQueueBodySchema = withMeta(strictBody({ userId: IdSchema }), {
  id: 'JoinQueueRequest',
});

export const QueuePlaceSchema = withMeta(
  z.object({
    position: withMeta(z.int().check(z.minimum(1)), {
      description:
        'The place in the queue: positions are admitted in order, at the event’s rate (numbers come from 8 counters, so some positions belong to nobody).',
    }),
    admitAt: withMeta(z.string(), {
      description: 'When this position is admitted at the current rate: come back then.',
    }),
    admissionToken: withMeta(z.optional(z.string()), {
      description:
        'Once admitted: send it as the `Admission-Token` header of the registration (this user, this event, until `tokenExpiresAt`). Each read gives a fresh one.',
    }),
    tokenExpiresAt: withMeta(z.optional(z.string()), {
      description:
        'Until when the token is good (a registration after it: 403 EVENTS.ADMISSION_EXPIRED).',
    }),
  }),
  { id: 'QueuePlace' },
);

/** The header a registration carries while its event's queue is on. */
export const AdmissionTokenHeader = z.object({
  'admission-token': withMeta(z.optional(z.string()), {
    description:
      'Required while the event’s waiting room is on (`admission.enabled`): the token `GET /events/{eventId}/queue/{userId}` gives the user once admitted. Missing, forged, or another user’s or event’s: 403 EVENTS.ADMISSION_REQUIRED; expired: 403 EVENTS.ADMISSION_EXPIRED.',
  }),
});
