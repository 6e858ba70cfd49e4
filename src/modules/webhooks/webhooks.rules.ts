import type { StoredSecret } from './webhooks.model.js';

/**
 * The pure decisions of webhook delivery: when the next attempt is due, when an endpoint is
 * disabled, which endpoints an event goes to, and which secrets sign.
 */

/**
 * The Standard Webhooks spec's example schedule: the delay before each attempt, in seconds —
 * immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h (ten attempts over about
 * three days and a half).
 */
export const STANDARD_RETRY_SCHEDULE: readonly number[] = [
  0, 5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400,
];

/** How far a retry may move from its scheduled moment, either way (a share of the delay). */
export const JITTER = 0.1;
/** A Retry-After longer than this is read as this. */
export const MAX_RETRY_AFTER_SECONDS = 86_400;

export type AttemptOutcome =
  | { readonly kind: 'succeeded' }
  /** The endpoint answered 410 Gone: it is disabled at once, the delivery abandoned. */
  | { readonly kind: 'gone' }
  /** No attempt left in the schedule. */
  | { readonly kind: 'exhausted' }
  | { readonly kind: 'retry'; readonly delaySeconds: number };

/**
 * What follows attempt `attempt` (1-based) of a round: success, 410, the schedule's end, or the
 * next attempt after the schedule's delay, moved by up to ±10 % (`random` in [0, 1)) so that
 * retries of a burst spread out, and never earlier than a Retry-After the endpoint asked for.
 */
export function afterAttempt(
  result: { readonly ok: boolean; readonly status?: number; readonly retryAfterSeconds?: number },
  attempt: number,
  schedule: readonly number[],
  random: number,
): AttemptOutcome {
  if (result.ok) return { kind: 'succeeded' };
  if (result.status === 410) return { kind: 'gone' };
  const scheduled = schedule[attempt];
  if (scheduled === undefined) return { kind: 'exhausted' };
  const jittered = scheduled * (1 + JITTER * (2 * random - 1));
  const asked = Math.min(result.retryAfterSeconds ?? 0, MAX_RETRY_AFTER_SECONDS);
  return { kind: 'retry', delaySeconds: Math.max(jittered, asked) };
}

/**
 * Whether an endpoint that has failed every attempt since `failingSince` is now disabled: when
 * that lasted `disableAfterSeconds` (five days by default).
 */
export function failedTooLong(
  failingSince: string | undefined,
  now: Date,
  disableAfterSeconds: number,
): boolean {
  if (!failingSince) return false;
  return now.getTime() - Date.parse(failingSince) >= disableAfterSeconds * 1000;
}

/** Whether an endpoint subscribed to `types` receives an event of `type`. */
export const subscribes = (types: readonly string[], type: string): boolean =>
  types.includes('*') || types.includes(type);

/** The secrets that sign at `now`: the current one and a rotated one still in its 24 hours. */
export function signingSecrets(secrets: readonly StoredSecret[], now: Date): StoredSecret[] {
  return secrets.filter(
    (s) => s.expiresAt === undefined || Date.parse(s.expiresAt) > now.getTime(),
  );
}

/** How long a rotated secret keeps signing beside the new one. */
export const ROTATION_OVERLAP_SECONDS = 86_400;

/**
 * The secrets after a rotation at `now`: the new one first; the previous current one signing for
 * 24 hours more; any older one that has expired dropped.
 */
export function rotated(
  secrets: readonly StoredSecret[],
  fresh: StoredSecret,
  now: Date,
): StoredSecret[] {
  const overlapEnd = new Date(now.getTime() + ROTATION_OVERLAP_SECONDS * 1000).toISOString();
  return [
    fresh,
    ...signingSecrets(secrets, now).map((s) => ({
      ...s,
      expiresAt: s.expiresAt && s.expiresAt < overlapEnd ? s.expiresAt : overlapEnd,
    })),
  ];
}

/** `0,5,300` → [0, 5, 300]; throws on anything else (settings validation). */
export function parseSchedule(text: string): number[] {
  const delays = text.split(',').map((part) => Number(part.trim()));
  if (delays.length === 0 || delays.some((d) => !Number.isInteger(d) || d < 0 || d > 86_400)) {
    throw new Error('a comma-separated list of whole seconds, each 0–86400');
  }
  return delays;
}
