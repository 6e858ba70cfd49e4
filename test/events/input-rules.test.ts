import { beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.js';
import {
  bodyOf,
  createEvent,
  createEventsApp,
  type Event,
  eventBody,
  expectProblem,
  getEvent,
  uniqueId,
} from './fixtures.js';

/*
 * What the events module takes from a client: bodies without unknown fields, and text without
 * control or bidirectional formatting characters (one rule, the platform's `text()`).
 */

let app: TestApp;
beforeAll(async () => {
  app = await createEventsApp();
});

describe('unknown fields', () => {
  it('refuses POST /events with a misspelt field (hasWaitlst) with 422 naming it, and creates nothing', async () => {
    const eventId = uniqueId('typo');

    const res = await app.call('/events', {
      method: 'POST',
      json: eventBody({ eventId, hasWaitlst: false }),
    });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual([
      {
        path: 'body',
        message: expect.stringMatching(/^unknown field "hasWaitlst" \(the fields are eventId, /),
      },
    ]);
    expect((await app.call(`/events/${eventId}`)).status).toBe(404);
  });

  it('refuses PUT /events/{eventId} with an unknown field, and changes nothing', async () => {
    const event = await createEvent(app, { eventId: uniqueId('put-typo') });

    const res = await app.call(`/events/${event.eventId}`, {
      method: 'PUT',
      json: { title: 'Renamed', capacty: 500 },
    });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.message)).toEqual([
      expect.stringMatching(/^unknown field "capacty"/),
    ]);
    expect(await getEvent(app, event.eventId)).toEqual(event);
  });

  it.each([
    ['/users', { name: 'Ana', nmae: 'Ana' }, 'nmae'],
    ['/registrations', { userId: 'u', eventId: 'e', waitlist: true }, 'waitlist'],
    ['/events/e/registrations', { userId: 'u', eventId: 'e' }, 'eventId'],
    ['/events/e/register', { userId: 'u', force: true }, 'force'],
  ])('refuses POST %s with an unknown field', async (path, json, field) => {
    const res = await app.call(path, { method: 'POST', json });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.message)).toContainEqual(
      expect.stringMatching(new RegExp(`^unknown field "${field}"`)),
    );
  });
});

describe('text fields', () => {
  const fields = ['title', 'description', 'location', 'organizer'] as const;

  it.each([
    ['NUL', 'Tech\u0000Conf', 'U+0000 (a control character) at character 5'],
    ['a C1 control', 'Tech\u009bConf', 'U+009B (a control character) at character 5'],
    ['RIGHT-TO-LEFT OVERRIDE', 'Tech\u202EConf', 'U+202E (a bidirectional formatting character)'],
    ['FIRST STRONG ISOLATE', '\u2068Tech', 'U+2068 (a bidirectional formatting character)'],
  ])('refuses %s in every text field of an event', async (_c, value, says) => {
    for (const field of fields) {
      const res = await app.call('/events', {
        method: 'POST',
        json: eventBody({ [field]: value }),
      });

      const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
      expect(problem.errors, field).toEqual([
        { path: `body.${field}`, message: expect.stringContaining(`must not contain ${says}`) },
      ]);
    }
  });

  it('refuses the same on PUT /events/{eventId}, and changes nothing', async () => {
    const event = await createEvent(app, { eventId: uniqueId('put-bidi') });

    const res = await app.call(`/events/${event.eventId}`, {
      method: 'PUT',
      json: { organizer: 'evil\u202Ecorp' },
    });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors?.map((e) => e.path)).toEqual(['body.organizer']);
    expect(await getEvent(app, event.eventId)).toEqual(event);
  });

  it('keeps line breaks and tabs in a description', async () => {
    const description = 'Day one:\n\ttalks\r\nDay two:\n\tworkshops';

    const event = await createEvent(app, { description });

    expect(event.description).toBe(description);
  });

  it.each(['title', 'location', 'organizer'])('refuses a line break in the %s', async (field) => {
    const res = await app.call('/events', {
      method: 'POST',
      json: eventBody({ [field]: 'first\nsecond' }),
    });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual([
      { path: `body.${field}`, message: 'must not contain U+000A (a line break) at character 6' },
    ]);
  });

  it('keeps right-to-left text with its marks, accents and emoji', async () => {
    const title = 'כנס 2024\u200F — São Paulo 👩‍💻';

    const res = await app.call('/events', { method: 'POST', json: eventBody({ title }) });

    expect((await bodyOf<Event>(res, 201)).title).toBe(title);
  });

  it.each([
    ['a bidi override', 'Ana\u202Eb', 'U+202E (a bidirectional formatting character)'],
    ['a C1 control', 'Ana\u0085', 'U+0085 (a control character)'],
    ['a line break', 'Ana\nB', 'U+000A (a line break)'],
  ])("refuses %s in a user's name", async (_c, name, says) => {
    const userId = uniqueId('user');

    const res = await app.call('/users', { method: 'POST', json: { userId, name } });

    const problem = await expectProblem(res, 422, 'REQUEST.VALIDATION_FAILED');
    expect(problem.errors).toEqual([
      { path: 'body.name', message: expect.stringContaining(`must not contain ${says}`) },
    ]);
    expect((await app.call(`/users/${userId}`)).status).toBe(404);
  });
});
