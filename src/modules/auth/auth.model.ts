/**
 * The auth domain: users of the local token issuer (on AWS, Cognito holds the users), the
 * failed-sign-in throttle kept per username, and the limits that stand before the password check.
 */

/** A user of the local issuer, as stored: the password only as a scrypt hash. */
export interface LocalUser {
  /** Normalised (see `normalizeUsername`): what sign-in looks up. */
  readonly username: string;
  /** The token subject: a UUIDv7 given once, never reused after a removal. */
  readonly sub: string;
  readonly passwordHash: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** What listing users shows: never the hash. */
export type UserSummary = Omit<LocalUser, 'passwordHash'>;

export interface LoginThrottleSettings {
  /** Failed sign-ins a username may have in a row before it is throttled. */
  readonly burst: number;
  /** How long one failure counts: the allowance comes back one failure per this many seconds. */
  readonly decaySeconds: number;
}

/**
 * Where a username's attempts are counted in the table:
 * - `user`: on the local user's own item, which must exist — an unknown username writes nothing
 *   (its attempts are counted in memory instead);
 * - `login`: on an item of its own, made by the first attempt — for a user pool, whose users the
 *   table cannot know.
 */
export type AttemptsOn = 'user' | 'login';

export interface SignInLimits {
  /** Password checks (scrypt runs) at once in this process; a few more may wait, the rest: 503. */
  readonly passwordConcurrency: number;
  /** Sign-in attempts one client address may make in a row before it is answered 429. */
  readonly clientBurst: number;
  /** After the burst, attempts per minute per client address. */
  readonly clientPerMinute: number;
}
