import * as z from 'zod/mini';
import { createRouter, jsonContent, problemResponses } from '../../platform/http/openapi.js';
import { createRoute } from '../../platform/http/routes.js';
import { withMeta } from '../../platform/input.js';
import type { OffersService, OfferView } from './events.offers.service.js';
import { EventUserParams, RegistrationSchema, registrationBody } from './events.schemas.js';

const tags = ['events'];

/**
 * Any string up to a sane length: a token that isn't genuine is a 404 like an unknown one, so a
 * malformed link and a forged one answer the same.
 */
const TokenParam = z.object({
  token: withMeta(z.string().check(z.minLength(1), z.maxLength(2048)), {
    param: { name: 'token', in: 'path' },
    example: 'Hk3…(43 characters)',
  }),
});

export const OfferSchema = withMeta(
  z.object({
    status: withMeta(z.enum(['offered', 'accepted', 'declined', 'expired']), {
      description:
        '`offered`: open until `offerExpiresAt`; then `accepted` (the seat is confirmed), `declined` or `expired` (the seat passed on).',
    }),
    eventId: z.string(),
    eventTitle: z.string(),
    eventDate: z.string(),
    eventLocation: z.string(),
    userId: z.string(),
    offeredAt: z.string(),
    offerExpiresAt: z.string(),
    decidedAt: withMeta(z.optional(z.string()), {
      description: 'When it was accepted, declined or lapsed.',
    }),
  }),
  { id: 'Offer' },
);

const offerBody = ({ status, event, registration, decidedAt }: OfferView) => ({
  status,
  eventId: event.eventId,
  eventTitle: event.title,
  eventDate: event.date,
  eventLocation: event.location,
  userId: registration.userId,
  offeredAt: registration.offeredAt as string,
  offerExpiresAt: registration.offerExpiresAt as string,
  ...(decidedAt ? { decidedAt } : {}),
});

const linkNote =
  'Needs no API key: the token in the path is the capability (an altered, forged or unknown one is a 404, and changes nothing).';

const viewRoute = createRoute({
  method: 'get',
  path: '/offers/{token}',
  tags,
  summary: 'A waitlist offer, through its link',
  description: linkNote,
  security: [],
  request: { params: TokenParam },
  responses: {
    200: jsonContent(OfferSchema, 'The offer as it stands'),
    ...problemResponses(404, 422),
  },
});

const acceptRoute = createRoute({
  method: 'post',
  path: '/offers/{token}/accept',
  tags,
  summary: 'Accept a waitlist offer: the held seat is confirmed',
  description: `${linkNote} At or after \`offerExpiresAt\`: 410 (the seat has passed on). Accepting again answers the same; a declined offer is a 409, as is an event no longer taking registrations.`,
  security: [],
  request: { params: TokenParam },
  responses: {
    200: jsonContent(OfferSchema, 'Accepted'),
    ...problemResponses(404, 409, 410, 422, 503),
  },
});

const declineRoute = createRoute({
  method: 'post',
  path: '/offers/{token}/decline',
  tags,
  summary: 'Decline a waitlist offer: the seat goes to the next person',
  description: `${linkNote} Declining again answers the same; an accepted offer is a 409, an expired one a 410.`,
  security: [],
  request: { params: TokenParam },
  responses: {
    200: jsonContent(OfferSchema, 'Declined'),
    ...problemResponses(404, 409, 410, 422, 503),
  },
});

const organiserRoute = (action: 'accept' | 'decline') =>
  createRoute({
    method: 'post',
    path: `/events/{eventId}/registrations/{userId}/offer/${action}`,
    tags,
    summary:
      action === 'accept'
        ? "Accept a user's waitlist offer for them"
        : "Decline a user's waitlist offer for them",
    description:
      action === 'accept'
        ? 'As `POST /offers/{token}/accept`, for the organiser: the registration becomes `confirmed`. 409 when the user holds no offer.'
        : 'As `POST /offers/{token}/decline`, for the organiser: the registration becomes `declined` and the seat goes to the next. 409 when the user holds no offer.',
    request: { params: EventUserParams },
    responses: {
      200: jsonContent(RegistrationSchema, 'The registration'),
      ...problemResponses(401, 404, 409, 410, 422, 503),
    },
  });

export function offerRoutes(service: OffersService) {
  const app = createRouter();

  app.openapi(viewRoute, async (c) =>
    c.json(offerBody(await service.view(c.req.valid('param').token)), 200),
  );
  app.openapi(acceptRoute, async (c) =>
    c.json(offerBody(await service.accept(c.req.valid('param').token)), 200),
  );
  app.openapi(declineRoute, async (c) =>
    c.json(offerBody(await service.decline(c.req.valid('param').token)), 200),
  );
  app.openapi(organiserRoute('accept'), async (c) => {
    const { eventId, userId } = c.req.valid('param');
    return c.json(registrationBody(await service.acceptFor(eventId, userId)), 200);
  });
  app.openapi(organiserRoute('decline'), async (c) => {
    const { eventId, userId } = c.req.valid('param');
    return c.json(registrationBody(await service.declineFor(eventId, userId)), 200);
  });

  return app;
}
