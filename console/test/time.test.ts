import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatTime, isoToLocalInput, localInputToIso, utcOffsetLabel } from '../src/lib/time';

// The machines run in UTC, where local time and UTC coincide: the conversions are also checked
// in zones with an offset, a half-hour one and daylight saving time (Node reads TZ when it changes).
describe.each(['UTC', 'Europe/Lisbon', 'America/Sao_Paulo', 'Asia/Kolkata'])('in %s', (zone) => {
  beforeAll(() => {
    vi.stubEnv('TZ', zone);
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });

  it('reads what a person typed as their local time and sends that instant in UTC', () => {
    // The zone is in effect: June's offsets (Lisbon on summer time, Kolkata's half hour).
    const juneOffsets: Record<string, number> = {
      UTC: 0,
      'Europe/Lisbon': -60,
      'America/Sao_Paulo': 180,
      'Asia/Kolkata': -330,
    };
    expect(new Date(2026, 5, 1).getTimezoneOffset()).toBe(juneOffsets[zone]);
    const typed = '2026-11-21T10:42';
    expect(localInputToIso(typed)).toBe(new Date(2026, 10, 21, 10, 42).toISOString());
    expect(localInputToIso('2026-11-21T10:42:05.250')).toBe(
      new Date(2026, 10, 21, 10, 42, 5, 250).toISOString(),
    );
  });

  it('shows an API instant in the input as the same local time, and back unchanged', () => {
    for (const iso of [
      '2026-11-21T10:00:00.000Z',
      '2026-03-29T01:30:00.000Z',
      '2026-12-31T23:59:59.500Z',
    ]) {
      const shown = isoToLocalInput(iso);
      expect(shown, iso).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{3})?)?$/);
      expect(localInputToIso(shown), iso).toBe(iso);
    }
  });

  it('leaves out seconds the input would not show', () => {
    expect(isoToLocalInput(new Date(2026, 0, 2, 3, 4).toISOString())).toBe('2026-01-02T03:04');
  });

  it('treats empty or foreign values as absent instead of guessing', () => {
    for (const value of [
      '',
      '  ',
      'tomorrow',
      '2026-11-21',
      '21/11/2026 10:00',
      '2026-13-40T99:99',
    ]) {
      expect(localInputToIso(value), value).toBeUndefined();
    }
    expect(isoToLocalInput(undefined)).toBe('');
    expect(isoToLocalInput(null)).toBe('');
    expect(isoToLocalInput('not a date')).toBe('');
  });

  it('formats a missing time as a dash and a foreign one as given', () => {
    expect(formatTime(null)).toBe('—');
    expect(formatTime('soon')).toBe('soon');
    expect(formatTime('2026-11-21T10:00:00.000Z')).toBe(
      new Date('2026-11-21T10:00:00.000Z').toLocaleString(),
    );
  });

  it('names the browser’s offset from UTC', () => {
    const date = new Date(2026, 5, 1);
    const offset = 0 - date.getTimezoneOffset();
    const label = utcOffsetLabel(date);
    expect(label).toMatch(/^UTC[+-]\d{2}:\d{2}$/);
    const [, sign, hours, minutes] = /UTC([+-])(\d{2}):(\d{2})/.exec(label) ?? [];
    expect((sign === '-' ? -1 : 1) * (Number(hours) * 60 + Number(minutes))).toBe(offset);
  });
});
