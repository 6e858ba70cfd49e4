import type { Page, PageRequest } from '../../platform/page.js';
import type { AttemptsOn, LocalUser, UserSummary } from './auth.model.js';

/**
 * A throttle write: done (with the local user, when counted on their item), or refused by its
 * condition, with the username's `tat` as it is now and whether the item exists at all.
 */
export type AttemptCommit =
  | { readonly ok: true; readonly user?: LocalUser }
  | { readonly ok: false; readonly exists: boolean; readonly tat?: number };

/**
 * The auth module's store: the local issuer's users, and the per-username sign-in throttle.
 * Throttle writes are conditional so that concurrent attempts can never take more than the
 * allowance between them; the decision of what to write comes from auth.rules.ts.
 */
export interface AuthRepository {
  /** False when the username is taken. */
  createUser(user: LocalUser): Promise<boolean>;
  /** False when the user does not exist. */
  setPasswordHash(username: string, passwordHash: string, now: string): Promise<boolean>;
  /** False when the user does not exist. */
  deleteUser(username: string): Promise<boolean>;
  /** Users by username. */
  listUsers(page: PageRequest): Promise<Page<UserSummary>>;

  /** Sets `tat` for a username none of whose attempts count any more (none stored, or past). */
  startAttempts(on: AttemptsOn, username: string, tat: number, now: number): Promise<AttemptCommit>;
  /** Moves `tat` forward by `by`, provided it is still between now and `limit`. */
  extendAttempts(
    on: AttemptsOn,
    username: string,
    by: number,
    now: number,
    limit: number,
  ): Promise<AttemptCommit>;
  /** Gives one attempt back (a sign-in that succeeded, or one never checked). */
  refundAttempt(on: AttemptsOn, username: string, by: number): Promise<void>;
}
