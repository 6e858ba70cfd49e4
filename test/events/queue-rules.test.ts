import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Admission } from '../../src/modules/events/events.model.js';
import {
  admissionToken,
  admitAt,
  admittedThrough,
  anchored,
  checkAdmissionToken,
  highestPosition,
  positionOf,
} from '../../src/modules/events/events.queue.rules.js';

/* The waiting room's pure decisions: positions, admission by the clock, the admission token. */

const KEY = Buffer.alloc(32, 3);
const CONFIG = { eventId: 'on-sale', eventCreatedAt: '2026-12-01T10:00:00.000Z' };

const admission = fc.record({
  enabled: fc.constant(true),
  ratePerSecond: fc.integer({ min: 1, max: 10_000 }),
  tokenSeconds: fc.integer({ min: 30, max: 600 }),
  anchorAt: fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
  anchorAdmitted: fc.integer({ min: 0, max: 1_000_000 }),
});

describe('queue rules', () => {
  it('numbers positions so that the 8 counters never give the same one', () => {
    const seen = new Set<number>();
    for (let k = 0; k < 8; k++) for (let n = 1; n <= 50; n++) seen.add(positionOf(k, n));
    expect(seen.size).toBe(400);
    expect(Math.min(...seen)).toBe(1);
    expect(Math.max(...seen)).toBe(400);
    expect(highestPosition([0, 2, 0, 0, 0, 0, 0, 1])).toBe(positionOf(1, 2));
    expect(highestPosition([])).toBe(0);
  });

  it('admits a position exactly at its admitAt, not a millisecond before', () => {
    fc.assert(
      fc.property(admission, fc.integer({ min: 1, max: 2_000_000 }), (a, more) => {
        const position = a.anchorAdmitted + more;
        const at = admitAt(a, position);
        expect(admittedThrough(a, at)).toBeGreaterThanOrEqual(position);
        expect(admittedThrough(a, at - 1)).toBeLessThan(position);
      }),
    );
  });

  it('re-anchors a change from where admission had got to, capped at the positions handed out', () => {
    fc.assert(
      fc.property(
        admission,
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 5_000_000 }),
        (a, elapsed, rate, issued) => {
          const now = a.anchorAt + elapsed;
          const next = anchored(a, { ...a, ratePerSecond: rate }, now, issued);
          expect(next.anchorAt).toBe(now);
          expect(next.anchorAdmitted).toBe(Math.min(admittedThrough(a, now), issued));
          // Nobody admitted is un-admitted who holds a position (positions held ≤ issued).
          expect(admittedThrough(next, now)).toBe(next.anchorAdmitted);
        },
      ),
    );
    const off: Admission = { ...CONFIG_ADMISSION, enabled: false };
    expect(admittedThrough(off, CONFIG_ADMISSION.anchorAt + 3_600_000)).toBe(10);
  });

  it('checks a token: its own user and event only, until notAfter; anything altered is refused', () => {
    const notAfter = 1_800_000_000;
    const token = admissionToken(KEY, CONFIG, 'alice', notAfter);
    expect(token).toMatch(/^[A-Za-z0-9_-]{47}$/);
    const at = (seconds: number) => seconds * 1000;
    expect(checkAdmissionToken(KEY, CONFIG, 'alice', token, at(notAfter))).toBe('valid');
    expect(checkAdmissionToken(KEY, CONFIG, 'alice', token, at(notAfter) + 1)).toBe('expired');
    expect(checkAdmissionToken(KEY, CONFIG, 'bob', token, at(notAfter))).toBe('invalid');
    const other = { ...CONFIG, eventId: 'other' };
    expect(checkAdmissionToken(KEY, other, 'alice', token, at(notAfter))).toBe('invalid');
    const reborn = { ...CONFIG, eventCreatedAt: '2026-12-02T10:00:00.000Z' };
    expect(checkAdmissionToken(KEY, reborn, 'alice', token, at(notAfter))).toBe('invalid');
    expect(checkAdmissionToken(Buffer.alloc(32, 4), CONFIG, 'alice', token, 0)).toBe('invalid');
    expect(checkAdmissionToken(KEY, CONFIG, 'alice', undefined, 0)).toBe('invalid');
    // Every byte flipped, the notAfter among them (a later one is not to be had).
    const raw = Buffer.from(token, 'base64url');
    for (let i = 0; i < raw.length; i++) {
      const altered = Buffer.from(raw);
      altered[i] = (altered[i] ?? 0) ^ 1;
      const check = checkAdmissionToken(KEY, CONFIG, 'alice', altered.toString('base64url'), 0);
      expect(check, `byte ${i}`).toBe('invalid');
    }
  });
});

const CONFIG_ADMISSION: Admission = {
  enabled: true,
  ratePerSecond: 100,
  tokenSeconds: 120,
  anchorAt: 1_800_000_000_000,
  anchorAdmitted: 10,
};
