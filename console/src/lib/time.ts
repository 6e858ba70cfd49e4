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
