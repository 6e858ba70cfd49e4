import * as z from 'zod/mini';
import {
  createRouter,
  jsonBody,
  jsonContent,
  problemResponses,
} from '../../platform/http/openapi.js';
import { paginationQuery, setNextLink } from '../../platform/http/pagination.js';
import { createRoute } from '../../platform/http/routes.js';
import { strictBody, withMeta } from '../../platform/input.js';
import { onFirstUse } from '../../platform/on-first-use.js';
import type { CheckinsService } from './events.checkins.service.js';
import { checkinResults } from './events.model.js';
import { EventIdParam, EventSchema, EventUserParams, eventBody } from './events.schemas.js';

const tags = ['events'];

const TicketSchema = withMeta(
  z.object({
    ticket: withMeta(z.string(), {
      description:
        "118 URL-safe characters: the registration, its event and the key version, signed with Ed25519. Put it in a QR code; door devices verify it offline with the manifest's public keys.",
    }),
    registrationId: z.string(),
    keyVersion: z.int(),
  }),
  { id: 'Ticket' },
);

const ScanSchema = withMeta(
  strictBody({
    ticket: withMeta(z.optional(z.string().check(z.minLength(1), z.maxLength(1000))), {
      description: 'The scanned ticket.',
    }),
    userId: withMeta(z.optional(z.string().check(z.minLength(1), z.maxLength(100))), {
      description: 'Instead of a ticket: the user, looked up by hand at the door.',
    }),
    nonce: withMeta(
      z
        .string()
        .check(z.regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8–64 characters of A-Z a-z 0-9 _ -')),
      {
        description:
          'Unique per scan (the device makes it): the same nonce again answers the same and records nothing more.',
      },
    ),
    type: z._default(z.optional(z.enum(['entry', 'exit'])), 'entry'),
    at: withMeta(z.optional(z.iso.datetime({ offset: true })), {
      description: 'When it was scanned, for a scan queued offline; now when absent.',
    }),
    device: withMeta(
      z.optional(
        z
          .string()
          .check(
            z.regex(
              /^[\p{L}\p{N} ._:-]{1,64}$/u,
              'must be 1–64 letters, digits, spaces or . _ : -',
            ),
          ),
      ),
      { description: 'Which device or gate scanned it (shown with `already_admitted`).' },
    ),
  }).check(
    z.refine((body) => (body.ticket === undefined) !== (body.userId === undefined), {
      message: 'give exactly one of ticket and userId',
      path: ['ticket'],
    }),
  ),
  { id: 'CheckinRequest' },
);

const ScanAnswerSchema = withMeta(
  z.object({
    result: withMeta(z.enum(checkinResults), {
      description:
        '`admitted`; `already_admitted` (with when and where); `revoked` (unregistered, or the event cancelled); `unknown` (not a ticket of ours, or no confirmed registration); `wrong_event`; for an exit, `exited` or `not_inside`.',
    }),
    registrationId: z.optional(z.string()),
    userId: z.optional(z.string()),
    userName: z.optional(z.string()),
    admittedAt: z.optional(z.string()),
    admittedBy: z.optional(z.string()),
  }),
  { id: 'CheckinAnswer' },
);

const CheckinEntrySchema = withMeta(
  z.object({
    checkinId: z.string(),
    eventId: z.string(),
    registrationId: z.string(),
    userId: z.string(),
    type: z.enum(['entry', 'exit', 'revert']),
    at: z.string(),
    recordedAt: z.string(),
    device: z.optional(z.string()),
  }),
  { id: 'Checkin' },
);

const StatsSchema = withMeta(
  z.object({
    confirmed: z.int(),
    checkedIn: withMeta(z.int(), {
      description: 'Confirmed registrations admitted at least once (reverts taken back).',
    }),
    inside: z.int(),
    arrivals: withMeta(z.array(z.object({ from: z.string(), count: z.int() })), {
      description: 'Admissions per 5 minutes, by when they were scanned.',
    }),
  }),
  { id: 'CheckinStats' },
);

const SinceQuery = z.object({
  since: withMeta(z.optional(z.iso.datetime({ offset: true })), {
    description: "The previous answer's `cursor`: only what changed after it.",
  }),
});

const RevokedSchema = z.object({ registrationId: z.string(), revokedAt: z.string() });

const ManifestSchema = withMeta(
  z.object({
    event: EventSchema,
    eventTag: withMeta(z.string(), {
      description: 'The 6 bytes a ticket carries of its event (base64url).',
    }),
    keys: withMeta(z.array(z.object({ version: z.int(), publicKey: z.string() })), {
      description: 'Ed25519 public keys in service (raw, base64url), by version.',
    }),
    tickets: z.array(
      z.object({
        registrationId: z.string(),
        userId: z.string(),
        userName: z.optional(z.string()),
        ticketAt: z.string(),
      }),
    ),
    revoked: z.array(RevokedSchema),
    admissions: withMeta(
      z.array(
        z.object({
          registrationId: z.string(),
          userId: z.string(),
          inside: z.boolean(),
          admittedAt: z.optional(z.string()),
          admittedBy: z.optional(z.string()),
          changedAt: z.string(),
        }),
      ),
      {
        description:
          'Admissions every door made (and exits, reverts): a device that starts or reloads mid-event knows who is inside, so it does not admit them again offline.',
      },
    ),
    cursor: withMeta(z.string(), { description: 'Send it as `since` next time.' }),
  }),
  { id: 'TicketManifest' },
);

const ticketRoute = createRoute({
  method: 'get',
  path: '/events/{eventId}/registrations/{userId}/ticket',
  tags,
  summary: "A confirmed registration's ticket",
  description:
    'JSON by default; `Accept: image/png` or `image/svg+xml` answers it as a QR code. 409 for a registration that is not confirmed.',
  request: { params: EventUserParams },
  responses: {
    200: {
      description: 'The ticket',
      content: {
        'application/json': { schema: TicketSchema },
        'image/png': { schema: withMeta(z.string(), { format: 'binary' }) },
        'image/svg+xml': { schema: z.string() },
      },
    },
    ...problemResponses(401, 404, 409, 422),
  },
});

const scanRoute = createRoute({
  method: 'post',
  path: '/events/{eventId}/checkins',
  tags,
  summary: 'Check a ticket (or a user) in or out',
  description:
    'Answers 200 with a result whatever it is: the door acts on `result`. One admission per registration at a time, however many scans of it arrive at once; the `nonce` makes a retry (or an offline scan uploaded twice) answer the same and record nothing more. Announced as `checkin.created`.',
  request: { params: EventIdParam, body: jsonBody(ScanSchema) },
  responses: {
    200: jsonContent(ScanAnswerSchema, 'What the door should do'),
    ...problemResponses(400, 401, 404, 422, 503),
  },
});

const listRoute = createRoute({
  method: 'get',
  path: '/events/{eventId}/checkins',
  tags,
  summary: "An event's check-in log",
  description: 'Entries, exits and reverts, in the order they were recorded.',
  request: { params: EventIdParam, query: paginationQuery },
  responses: {
    200: jsonContent(z.array(CheckinEntrySchema), 'Entries; `Link: rel="next"` when more remain'),
    ...problemResponses(400, 401, 404, 422),
  },
});

const statsRoute = createRoute({
  method: 'get',
  path: '/events/{eventId}/checkins/stats',
  tags,
  summary: 'Checked in against confirmed, and arrivals per 5 minutes',
  request: { params: EventIdParam },
  responses: {
    200: jsonContent(StatsSchema, 'The counts'),
    ...problemResponses(401, 404, 422),
  },
});

const revertRoute = createRoute({
  method: 'delete',
  path: '/events/{eventId}/checkins/{registrationId}',
  tags,
  summary: 'Take back an admission',
  description:
    'The registration is no longer inside; the log keeps the admission and records the revert. Announced as `checkin.reverted`. 409 when it is not inside.',
  request: {
    params: z.extend(EventIdParam, {
      registrationId: withMeta(z.string().check(z.minLength(1), z.maxLength(100)), {
        param: { name: 'registrationId', in: 'path' },
      }),
    }),
  },
  responses: {
    200: jsonContent(CheckinEntrySchema, 'The revert, as logged'),
    ...problemResponses(401, 404, 409, 422, 503),
  },
});

const manifestRoute = createRoute({
  method: 'get',
  path: '/events/{eventId}/tickets/manifest',
  tags,
  summary: 'What a door device needs to admit offline',
  description:
    "The event, its ticket tag and public keys, the confirmed registrations (with names, for a typed lookup) and the revoked ones; with `since` (the last answer's `cursor`), only what changed after it. Changes may come twice: apply them by registration id.",
  request: { params: EventIdParam, query: SinceQuery },
  responses: {
    200: jsonContent(ManifestSchema, 'The manifest, or its delta'),
    ...problemResponses(401, 404, 422),
  },
});

const revocationsRoute = createRoute({
  method: 'get',
  path: '/events/{eventId}/tickets/revocations',
  tags,
  summary: 'Tickets revoked (since a cursor)',
  request: { params: EventIdParam, query: SinceQuery },
  responses: {
    200: jsonContent(
      withMeta(z.object({ revoked: z.array(RevokedSchema), cursor: z.string() }), {
        id: 'TicketRevocations',
      }),
      'Revocations, oldest first',
    ),
    ...problemResponses(401, 404, 422),
  },
});

/**
 * qrcode (and the PNG encoder it carries), loaded by the first ticket asked for as an image: only
 * that route draws one, so the API does not load it as it starts (infra/bundling.ts puts what an
 * `import()` loads in a chunk of its own).
 */
const qrcode = onFirstUse(() => import('qrcode'));

export function checkinRoutes(service: CheckinsService) {
  const app = createRouter();

  app.openapi(ticketRoute, async (c) => {
    const { eventId, userId } = c.req.valid('param');
    const { ticket, registration } = await service.ticket(eventId, userId);
    const accept = c.req.header('accept') ?? '';
    c.header('vary', 'Accept', { append: true });
    c.header('cache-control', 'private, no-store');
    if (/image\/png/.test(accept)) {
      const QRCode = await qrcode();
      const png = await QRCode.toBuffer(ticket, { errorCorrectionLevel: 'M', margin: 2, scale: 6 });
      return c.body(new Uint8Array(png), 200, { 'content-type': 'image/png' }) as never;
    }
    if (/image\/svg\+xml/.test(accept)) {
      const QRCode = await qrcode();
      const svg = await QRCode.toString(ticket, {
        type: 'svg',
        errorCorrectionLevel: 'M',
        margin: 2,
      });
      return c.body(svg, 200, { 'content-type': 'image/svg+xml; charset=utf-8' }) as never;
    }
    const keyVersion = Buffer.from(ticket, 'base64url')[1] as number;
    return c.json({ ticket, registrationId: registration.registrationId, keyVersion }, 200);
  });

  app.openapi(scanRoute, async (c) => {
    const { eventId } = c.req.valid('param');
    return c.json(await service.scan(eventId, c.req.valid('json')), 200);
  });

  app.openapi(listRoute, async (c) => {
    const { eventId } = c.req.valid('param');
    const page = await service.checkins(eventId, c.req.valid('query'));
    setNextLink(c, page.nextCursor);
    return c.json([...page.items], 200);
  });

  app.openapi(statsRoute, async (c) => {
    const stats = await service.stats(c.req.valid('param').eventId);
    return c.json({ ...stats, arrivals: [...stats.arrivals] }, 200);
  });

  app.openapi(revertRoute, async (c) => {
    const { eventId, registrationId } = c.req.valid('param');
    return c.json(await service.revert(eventId, registrationId), 200);
  });

  app.openapi(manifestRoute, async (c) => {
    const { eventId } = c.req.valid('param');
    const manifest = await service.manifest(eventId, c.req.valid('query').since);
    c.header('cache-control', 'private, no-store');
    return c.json(
      {
        ...manifest,
        event: eventBody(manifest.event),
        keys: [...manifest.keys],
        tickets: [...manifest.tickets],
        revoked: [...manifest.revoked],
        admissions: [...manifest.admissions],
      },
      200,
    );
  });

  app.openapi(revocationsRoute, async (c) => {
    const { eventId } = c.req.valid('param');
    const { revoked, cursor } = await service.revocations(eventId, c.req.valid('query').since);
    return c.json({ revoked: [...revoked], cursor }, 200);
  });

  return app;
}

/** The shapes of the check-in domain events' data, for the OpenAPI document. */
export const checkinEventSchemas = () => ({
  'checkin.created': CheckinEntrySchema,
  'checkin.reverted': CheckinEntrySchema,
});
