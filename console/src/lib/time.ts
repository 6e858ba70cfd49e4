/**
 * Date-times between the API (ISO 8601, UTC: `2026-11-21T10:00:00.000Z`) and the browser's
 * `datetime-local` inputs (`2026-11-21T11:00`, in the browser's time zone, no offset). What a
 * person types is their local time; what the API gets is the same instant in UTC.
 */

const LOCAL_INPUT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;

/** A `datetime-local` value → ISO 8601 UTC; undefined when empty or not such a value. */
export function localInputToIso(value: string): string | undefined {
  const trimmed = value.trim();
  if (!LOCAL_INPUT.test(trimmed)) return undefined;
  // Without an offset, a date-time string is read in the local time zone (ECMA-262 Date.parse).
  const date = new Date(trimmed);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** An ISO 8601 date-time → a `datetime-local` value in the browser's zone ('' when unusable). */
export function isoToLocalInput(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const minutes = `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(
    date.getHours(),
  )}:${pad(date.getMinutes())}`;
  const seconds = date.getSeconds();
  const millis = date.getMilliseconds();
  if (seconds === 0 && millis === 0) return minutes;
  return `${minutes}:${pad(seconds)}${millis === 0 ? '' : `.${pad(millis, 3)}`}`;
}

/** A timestamp as people read it, in their own locale and zone ('—' when there is none). */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** The browser's offset from UTC, as a hint next to date-time inputs: `UTC+01:00`. */
export function utcOffsetLabel(date: Date = new Date()): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

const plural = (count: number, unit: string) => `${count} ${unit}${count === 1 ? '' : 's'}`;

/**
 * Time left, in words, two units at most (`2 days 3 hours`, `12 minutes 1 second`): a countdown a
 * person reads at a glance. A partial second left counts as one, so it reaches `0 seconds` only
 * when nothing is left.
 */
export function durationText(ms: number): string {
  let left = Math.max(Math.ceil(ms / 1000), 0);
  const counts = ([86_400, 3_600, 60, 1] as const).map((size) => {
    const count = Math.floor(left / size);
    left -= count * size;
    return count;
  });
  const units = ['day', 'hour', 'minute', 'second'] as const;
  const first = counts.findIndex((count) => count > 0);
  if (first === -1) return plural(0, 'second');
  // The next unit only, and only when not zero: "1 day 5 seconds" says less than "1 day".
  return [first, first + 1]
    .filter((index) => (counts[index] ?? 0) > 0)
    .map((index) => plural(counts[index] ?? 0, units[index] ?? 'second'))
    .join(' ');
}

/** An instant relative to `now` in its largest fitting unit: `in 24 hours`, `2 hours ago`. */
export function relativeTime(iso: string, now: number, locale?: string): string {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '';
  const seconds = (at - now) / 1000;
  const format = new Intl.RelativeTimeFormat(locale, { numeric: 'always' });
  // The unit is chosen after rounding: 59 minutes 40 seconds is "in 1 hour", not "in 60 minutes".
  const abs = Math.abs(seconds);
  const sign = Math.sign(seconds);
  if (Math.round(abs / 3_600) >= 48) return format.format(sign * Math.round(abs / 86_400), 'day');
  if (Math.round(abs / 60) >= 60) return format.format(sign * Math.round(abs / 3_600), 'hour');
  if (Math.round(abs) >= 60) return format.format(sign * Math.round(abs / 60), 'minute');
  return format.format(sign * Math.round(abs), 'second');
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * An event's date as people read it: a date-only value (`2026-12-15`) is that calendar day
 * wherever the reader is (read as UTC and shown in UTC, so no zone moves it to the 14th); a
 * date-time in the reader's zone. Anything else is shown as given.
 */
export function formatEventDate(date: string, locale?: string): string {
  if (DATE_ONLY.test(date)) {
    const day = new Date(`${date}T00:00:00Z`);
    return Number.isNaN(day.getTime())
      ? date
      : day.toLocaleDateString(locale, { dateStyle: 'full', timeZone: 'UTC' });
  }
  const at = new Date(date);
  return Number.isNaN(at.getTime())
    ? date
    : at.toLocaleString(locale, { dateStyle: 'full', timeStyle: 'short' });
}
