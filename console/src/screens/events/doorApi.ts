import type { Api } from '../../api/client';
import type { DoorApi } from '../../lib/door-station';
import { DoorRequestError } from '../../lib/door-station';
import { problemOf } from '../../lib/problem';

/** The door's two calls through the typed client; anything but a 200 is a DoorRequestError. */
export function doorApi(api: Api): DoorApi {
  const failure = (response: Response, body: unknown) => {
    const problem = problemOf(response.status, response.statusText, body);
    return new DoorRequestError(response.status, problem.detail ?? problem.title);
  };
  const noAnswer = (error: unknown) =>
    error instanceof DOMException && error.name === 'TimeoutError'
      ? new DoorRequestError(0, 'the API did not answer in time')
      : new DoorRequestError(0, 'the API could not be reached');
  return {
    async manifest(eventId, since, signal) {
      const result = await api
        .GET('/events/{eventId}/tickets/manifest', {
          params: { path: { eventId }, query: since ? { since } : {} },
          signal,
        })
        .catch((error: unknown) => {
          throw noAnswer(error);
        });
      if (!result.data) throw failure(result.response, result.error);
      return result.data;
    },
    async scan(eventId, body, signal) {
      const result = await api
        .POST('/events/{eventId}/checkins', { params: { path: { eventId } }, body, signal })
        .catch((error: unknown) => {
          throw noAnswer(error);
        });
      if (!result.data) throw failure(result.response, result.error);
      return result.data;
    },
  };
}
