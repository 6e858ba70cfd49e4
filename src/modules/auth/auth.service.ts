import type { TokenVerifier } from '../../platform/http/auth.js';
import type { ModuleMetrics } from '../../platform/metrics/metrics.js';
import type { Page, PageRequest } from '../../platform/page.js';
import {
  type IssuedTokens,
  type JsonWebKeySet,
  TokenIssuerError,
  type TokenPort,
} from '../../platform/tokens/tokens.js';
import { AuthErrors } from './auth.errors.js';
import type { LocalUser, LoginThrottleSettings, UserSummary } from './auth.model.js';
import { dummyHash, hashPassword, verifyPassword } from './auth.passwords.js';
import type { AuthRepository } from './auth.repository.js';
import {
  decideAttempt,
  normalizeUsername,
  passwordProblems,
  USERNAME_PATTERN,
} from './auth.rules.js';

export interface AuthServiceDeps {
  readonly repository: AuthRepository;
  /** The runtime's token port; absent where no issuer is configured. */
  readonly tokens: TokenPort | undefined;
  readonly throttle: LoginThrottleSettings;
  readonly clock: () => Date;
  /** Time-ordered unique ids (UUIDv7), for token subjects. */
  readonly newId: () => string;
  /** SignInSucceeded, SignInFailed (wrong credentials), SignInThrottled (429). */
  readonly metrics: ModuleMetrics;
}

/** Throttle writes race only with other attempts on the same username; past this, 503. */
const MAX_THROTTLE_ATTEMPTS = 10;

/**
 * Sign-in (username and password → tokens, from Cognito or the local issuer), with failed
 * attempts throttled per username; and the local issuer's users.
 */
export class AuthService {
  constructor(private readonly deps: AuthServiceDeps) {}

  /**
   * Tokens for a username and password. A wrong password and an unknown username get the same
   * error after the same work (an scrypt run against a stand-in hash for the unknown one), and
   * both count against the username's allowance of failed attempts.
   */
  async signIn(username: string, password: string): Promise<IssuedTokens> {
    const { tokens } = this.deps;
    if (!tokens) throw AuthErrors.noIssuer();
    const key = normalizeUsername(username);
    const interval = await this.takeAttempt(key);
    let signedIn: IssuedTokens;
    try {
      signedIn =
        tokens.kind === 'user-pool'
          ? await tokens.authenticate(username, password)
          : await tokens.issue(await this.checkPassword(key, password));
    } catch (error) {
      if (!(error instanceof TokenIssuerError)) throw error;
      switch (error.reason) {
        case 'invalid-credentials':
          this.deps.metrics.count('SignInFailed');
          throw AuthErrors.invalidCredentials();
        case 'throttled':
          throw AuthErrors.issuerThrottled();
        case 'challenge-required':
          await this.deps.repository.refundAttempt(key, interval);
          throw AuthErrors.challengeRequired();
      }
    }
    await this.deps.repository.refundAttempt(key, interval);
    this.deps.metrics.count('SignInSucceeded');
    return signedIn;
  }

  /** The local issuer's public keys; undefined when tokens come from a user pool. */
  jwks(): JsonWebKeySet | undefined {
    return this.deps.tokens?.kind === 'self-issued' ? this.deps.tokens.jwks() : undefined;
  }

  /** The bearer-token check the platform's auth middleware runs. */
  readonly verifyToken: TokenVerifier = (token) => {
    const { tokens } = this.deps;
    if (!tokens) return Promise.reject(AuthErrors.tokensNotAccepted());
    return tokens.verify(token);
  };

  // ---- the local issuer's users (npm run users) ------------------------------------------------

  async addUser(username: string, password: string): Promise<UserSummary> {
    this.requireLocalUsers();
    const name = this.checkUsername(username);
    this.checkPolicy(password, name);
    const now = this.deps.clock().toISOString();
    const user: LocalUser = {
      username: name,
      sub: this.deps.newId(),
      passwordHash: await hashPassword(password),
      createdAt: now,
      updatedAt: now,
    };
    if (!(await this.deps.repository.createUser(user))) throw AuthErrors.userExists(name);
    const { passwordHash: _, ...summary } = user;
    return summary;
  }

  async changePassword(username: string, password: string): Promise<void> {
    this.requireLocalUsers();
    const name = normalizeUsername(username);
    this.checkPolicy(password, name);
    const hash = await hashPassword(password);
    const now = this.deps.clock().toISOString();
    if (!(await this.deps.repository.setPasswordHash(name, hash, now))) {
      throw AuthErrors.userNotFound(name);
    }
  }

  /** Removes a user. Tokens already issued to them stay valid until they expire (1 h). */
  async removeUser(username: string): Promise<void> {
    this.requireLocalUsers();
    const name = normalizeUsername(username);
    if (!(await this.deps.repository.deleteUser(name))) throw AuthErrors.userNotFound(name);
  }

  listUsers(page: PageRequest): Promise<Page<UserSummary>> {
    this.requireLocalUsers();
    return this.deps.repository.listUsers(page);
  }

  // ---- internals -------------------------------------------------------------------------------

  /**
   * Takes one attempt from the username's allowance, or refuses (429). Returns the interval one
   * attempt is worth, to give it back on success.
   */
  private async takeAttempt(username: string): Promise<number> {
    const { repository, throttle } = this.deps;
    let tat: number | undefined | 'unknown' = 'unknown';
    for (let round = 0; round < MAX_THROTTLE_ATTEMPTS; round++) {
      const now = this.deps.clock().getTime();
      const decision = decideAttempt(tat, now, throttle);
      if (decision.kind === 'refuse') {
        this.deps.metrics.count('SignInThrottled');
        throw AuthErrors.tooManyAttempts(decision.retryAfterSeconds);
      }
      const commit =
        decision.kind === 'start'
          ? await repository.startAttempts(username, decision.tat, now)
          : await repository.extendAttempts(username, decision.by, now, decision.limit);
      if (commit.ok) return throttle.decaySeconds * 1000;
      // Another attempt on this username landed in between: decide again on what it wrote.
      tat = commit.tat;
    }
    throw AuthErrors.busy();
  }

  /** The user whose password this is, or a TokenIssuerError after the same work. */
  private async checkPassword(username: string, password: string) {
    const user = await this.deps.repository.getUser(username);
    const matches = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()));
    if (!user || !matches) {
      throw new TokenIssuerError('invalid-credentials', 'wrong username or password');
    }
    return { sub: user.sub, username: user.username };
  }

  private requireLocalUsers(): void {
    if (this.deps.tokens?.kind === 'user-pool') throw AuthErrors.usersElsewhere();
  }

  private checkUsername(username: string): string {
    const name = normalizeUsername(username);
    if (!USERNAME_PATTERN.test(name)) throw AuthErrors.invalidUsername(username);
    return name;
  }

  private checkPolicy(password: string, username: string): void {
    const problems = passwordProblems(password, username);
    if (problems.length > 0) throw AuthErrors.weakPassword(problems);
  }
}
