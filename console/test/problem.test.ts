import { describe, expect, it } from 'vitest';
import {
  ApiError,
  fieldErrorsOf,
  isTransient,
  networkProblem,
  problemOf,
  toProblem,
} from '../src/lib/problem';

const validation = {
  type: '/problems/request-validation-failed',
  title: 'Unprocessable Content',
  status: 422,
  detail: 'The request did not match the schema.',
  code: 'REQUEST.VALIDATION_FAILED',
  errors: [
    { path: 'body.capacity', message: 'Too small: expected number to be >=1' },
    { path: 'body.capacity', message: 'must be an integer' },
    { path: 'body.title', message: 'must not be blank' },
    { path: 'body', message: 'give at least one field to change' },
    { path: 'query.limit', message: 'Too big' },
    { path: 'body.secret', message: 'not a field of this form' },
  ],
};

describe('problem documents', () => {
  it('places each validation error under its form field and keeps the rest for the summary', () => {
    const { byField, unplaced } = fieldErrorsOf(validation, ['capacity', 'title', 'date']);

    expect(byField).toEqual({
      capacity: ['Too small: expected number to be >=1', 'must be an integer'],
      title: ['must not be blank'],
    });
    expect(unplaced.map((error) => error.path)).toEqual(['body', 'query.limit', 'body.secret']);
  });

  it('keeps the API’s title, detail, code and request id', () => {
    const problem = problemOf(409, 'Conflict', {
      type: '/problems/events-event-full',
      title: 'Conflict',
      status: 409,
      detail: 'Event e1 is full and has no waitlist.',
      code: 'EVENTS.EVENT_FULL',
      requestId: 'r-1',
    });
    expect(problem).toMatchObject({
      title: 'Conflict',
      detail: 'Event e1 is full and has no waitlist.',
      code: 'EVENTS.EVENT_FULL',
      requestId: 'r-1',
    });
  });

  it('drops malformed field errors rather than showing undefined', () => {
    const problem = problemOf(422, '', { ...validation, errors: [{ path: 1 }, null, 'x'] });
    expect(problem.errors).toEqual([]);
  });

  it('makes a problem of a failure that sent none (a proxy’s HTML page)', () => {
    expect(problemOf(502, 'Bad Gateway', '<html>…</html>')).toEqual({
      title: 'Bad Gateway',
      status: 502,
      detail: 'The API answered 502 without a problem document.',
    });
    expect(problemOf(500, '', undefined).title).toBe('HTTP 500');
  });

  it('explains a network failure and treats it, 429 and 503 as worth retrying', () => {
    const problem = toProblem(new TypeError('Failed to fetch'));
    expect(problem).toEqual(networkProblem(new TypeError('Failed to fetch')));
    expect(problem.detail).toContain('Failed to fetch');
    expect(isTransient(problem)).toBe(true);
    expect(isTransient({ title: 'Service Unavailable', status: 503 })).toBe(true);
    expect(isTransient({ title: 'Too Many Requests', status: 429 })).toBe(true);
    expect(isTransient(validation)).toBe(false);
  });

  it('carries the problem in ApiError and reads it back', () => {
    const error = new ApiError(validation);
    expect(error.message).toBe('Unprocessable Content: The request did not match the schema.');
    expect(toProblem(error)).toBe(validation);
  });

  it('places errors of a query or a path parameter when the form fills those', () => {
    const problem = {
      title: 'Bad Request',
      status: 400,
      errors: [
        { path: 'query.from', message: 'Invalid ISO datetime' },
        { path: 'path.id', message: 'must be 1–100 characters' },
        { path: 'body.id', message: 'Required' },
        { path: 'header.idempotency-key', message: 'Too long' },
      ],
    };
    expect(fieldErrorsOf(problem, ['from'], 'query').byField).toEqual({
      from: ['Invalid ISO datetime'],
    });
    const both = fieldErrorsOf(problem, ['id'], ['path', 'body']);
    expect(both.byField).toEqual({ id: ['must be 1–100 characters', 'Required'] });
    expect(both.unplaced.map((error) => error.path)).toEqual([
      'query.from',
      'header.idempotency-key',
    ]);
  });
});
