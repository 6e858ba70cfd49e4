/**
 * The auth domain: users of the local token issuer (on AWS, Cognito holds the users) and the
 * failed-sign-in throttle kept per username.
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
