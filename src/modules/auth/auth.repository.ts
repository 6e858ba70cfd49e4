import type { Page, PageRequest } from '../../platform/page.js';
import type { LocalUser, UserSummary } from './auth.model.js';

/** A throttle write whose condition failed, with the username's `tat` as it is now. */
export type AttemptCommit = { readonly ok: true } | { readonly ok: false; readonly tat?: number };

/**
 * The auth module's store: the local issuer's users, and the per-username sign-in throttle.
 * Throttle writes are conditional so that concurrent attempts can never take more than the
 * allowance between them; the decision of what to write comes from auth.rules.ts.
 */
export interface AuthRepository {
  getUser(username: string): Promise<LocalUser | undefined>;
  /** False when the username is taken. */
  createUser(user: LocalUser): Promise<boolean>;
  /** False when the user does not exist. */
  setPasswordHash(username: string, passwordHash: string, now: string): Promise<boolean>;
  /** False when the user does not exist. */
  deleteUser(username: string): Promise<boolean>;
  /** Users by username. */
  listUsers(page: PageRequest): Promise<Page<UserSummary>>;

  /** Sets `tat` for a username none of whose attempts count any more (none stored, or past). */
  startAttempts(username: string, tat: number, now: number): Promise<AttemptCommit>;
  /** Moves `tat` forward by `by`, provided it is still between now and `limit`. */
  extendAttempts(username: string, by: number, now: number, limit: number): Promise<AttemptCommit>;
  /** Gives one attempt back (a sign-in that succeeded). */
  refundAttempt(username: string, by: number): Promise<void>;
}
