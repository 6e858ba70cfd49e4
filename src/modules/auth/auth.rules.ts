import type { LoginThrottleSettings } from './auth.model.js';

/*
 * Pure decisions of the auth module: what a username is, what a password must be, and whether a
 * sign-in attempt may go ahead.
 */

/** Usernames the users CLI accepts: lowercase letters, digits and `. _ @ + -`, 1–128. */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@+-]{0,127}$/;

/**
 * The one form of a username that lookups and the throttle use: Unicode NFKC, lowercased, so
 * `Alice` and `alice` are one user and one throttle (as in a Cognito pool, case-insensitive).
 */
export function normalizeUsername(raw: string): string {
  return raw.normalize('NFKC').toLowerCase();
}

/** Cognito's symbol set, so a password the local issuer accepts is one the user pool accepts. */
const SYMBOLS = '^$*.[]{}()?"!@#%&/\\,><\':;|_~`=+- ';

/** The password policy, kept once: the local users CLI checks it and the Cognito pool states it. */
export const PASSWORD_POLICY = {
  minLength: 12,
  maxLength: 256,
  requireLowercase: true,
  requireUppercase: true,
  requireDigits: true,
  requireSymbols: true,
} as const;

export const PASSWORD_POLICY_TEXT =
  `at least ${PASSWORD_POLICY.minLength} characters (at most ${PASSWORD_POLICY.maxLength}), ` +
  'with a lowercase letter, an uppercase letter, a digit and a symbol, and not the username';

/** Every way `password` falls short of the policy (empty: it is acceptable). */
export function passwordProblems(password: string, username: string): string[] {
  const problems: string[] = [];
  const length = [...password].length;
  if (length < PASSWORD_POLICY.minLength) {
    problems.push(`shorter than ${PASSWORD_POLICY.minLength} characters`);
  }
  if (length > PASSWORD_POLICY.maxLength) {
    problems.push(`longer than ${PASSWORD_POLICY.maxLength} characters`);
  }
  if (!/\p{Ll}/u.test(password)) problems.push('no lowercase letter');
  if (!/\p{Lu}/u.test(password)) problems.push('no uppercase letter');
  if (!/\p{Nd}/u.test(password)) problems.push('no digit');
  if (![...password].some((ch) => SYMBOLS.includes(ch))) problems.push('no symbol');
  if (normalizeUsername(password) === normalizeUsername(username)) {
    problems.push('the same as the username');
  }
  return problems;
}

/*
 * Failed sign-ins are throttled per username with a generic cell-rate algorithm: one number per
 * username, `tat` (the "theoretical arrival time", epoch ms). Each attempt moves it forward by
 * the decay interval T, starting from now when it lies in the past; an attempt is refused while
 * `tat` is more than (burst − 1)·T ahead of now. So a username has `burst` attempts in a row,
 * then one per T, and a refused attempt moves nothing: whoever hammers a username cannot push
 * its unlock further than T away. A successful sign-in gives its attempt back.
 */

export type AttemptDecision =
  /** No attempts are counting: start afresh at now + T. */
  | { readonly kind: 'start'; readonly tat: number }
  /** Attempts are counting and there is room: move `tat` forward by T, if it is still ≤ limit. */
  | { readonly kind: 'extend'; readonly by: number; readonly limit: number }
  | { readonly kind: 'refuse'; readonly retryAfterSeconds: number };

/**
 * What an attempt at `now` does, given the username's current `tat` (undefined: none stored;
 * `unknown`: not read yet, so try starting afresh, the common case).
 */
export function decideAttempt(
  tat: number | undefined | 'unknown',
  now: number,
  settings: LoginThrottleSettings,
): AttemptDecision {
  const interval = settings.decaySeconds * 1000;
  if (tat === 'unknown' || tat === undefined || tat < now) {
    return { kind: 'start', tat: now + interval };
  }
  const limit = now + (settings.burst - 1) * interval;
  if (tat <= limit) return { kind: 'extend', by: interval, limit };
  return { kind: 'refuse', retryAfterSeconds: Math.max(1, Math.ceil((tat - limit) / 1000)) };
}

/**
 * What the per-client limit counts by: an IPv4 address (also when written IPv4-mapped, as a
 * dual-stack socket reports it), or an IPv6 address's /64 — one host or home network is usually
 * handed a whole /64, so counting single IPv6 addresses would give it billions of allowances.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1]) return mapped[1];
  if (!address.includes(':')) return address;
  const [head = '', tail] = (address.split('%')[0] ?? '').toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [
          ...left,
          ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'),
          ...right,
        ];
  const prefix = groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, ''));
  return `${prefix.join(':')}::/64`;
}
