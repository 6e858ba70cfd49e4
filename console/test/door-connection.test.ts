import { describe, expect, it } from 'vitest';
import { repeatFilter } from '../src/lib/door-camera';
import {
  ageText,
  type Connection,
  nextConnection,
  syncDelay,
  unreachableStatus,
} from '../src/lib/door-connection';

const online: Connection = { mode: 'online', since: 0 };

describe('switching between online and offline', () => {
  it('goes offline at the first request that gets no answer, and says why', () => {
    const next = nextConnection(online, { type: 'unreachable', reason: 'no answer in time' }, 50);
    expect(next).toEqual({ mode: 'offline', since: 50, reason: 'no answer in time' });
    // Further failures don't move the time it went offline.
    expect(nextConnection(next, { type: 'unreachable', reason: 'again' }, 90)).toBe(next);
  });

  it('goes offline when the browser says it lost the network', () => {
    expect(nextConnection(online, { type: 'browser-offline' }, 10)).toMatchObject({
      mode: 'offline',
      since: 10,
    });
  });

  it('comes back only when a request is answered, not when the browser says it is online', () => {
    const offline = nextConnection(online, { type: 'browser-offline' }, 10);
    expect(nextConnection(offline, { type: 'browser-online' }, 20)).toBe(offline);
    expect(nextConnection(offline, { type: 'answered' }, 30)).toEqual({
      mode: 'online',
      since: 30,
    });
    expect(nextConnection(online, { type: 'answered' }, 40)).toBe(online);
  });

  it('counts a gateway’s 502, 503 or 504 as no answer, and the API’s own refusals as answers', () => {
    for (const status of [502, 503, 504]) expect(unreachableStatus(status)).toBe(true);
    for (const status of [200, 400, 401, 404, 409, 422, 429, 500]) {
      expect(unreachableStatus(status)).toBe(false);
    }
  });

  it('syncs every few seconds online, probes as often offline, then less after a minute', () => {
    expect(syncDelay(online, 1_000_000)).toBe(5_000);
    const offline: Connection = { mode: 'offline', since: 0, reason: 'x' };
    expect(syncDelay(offline, 30_000)).toBe(3_000);
    expect(syncDelay(offline, 61_000)).toBe(10_000);
  });

  it('says how old the door list is', () => {
    expect(ageText(-20)).toBe('0 s');
    expect(ageText(12_400)).toBe('12 s');
    expect(ageText(59_400)).toBe('59 s');
    expect(ageText(61_000)).toBe('1 min');
    expect(ageText(3 * 3_600_000)).toBe('3 h');
  });
});

describe('the camera’s repeats', () => {
  it('passes a code on once while it stays in front of the camera, again once it was away', () => {
    const fresh = repeatFilter(3_000);
    expect(fresh('A', 0)).toBe(true);
    expect(fresh('A', 125)).toBe(false);
    // Still there: each frame extends the quiet time.
    expect(fresh('A', 2_900)).toBe(false);
    expect(fresh('A', 5_800)).toBe(false);
    expect(fresh('B', 5_900)).toBe(true);
    expect(fresh('A', 6_000)).toBe(true);
    expect(fresh('A', 9_100)).toBe(true);
  });
});
