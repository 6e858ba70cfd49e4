import { type KeyedLimiter, keyedLimiter, LimiterFullError } from '../../platform/limiter.js';
import type { ModuleMetrics } from '../../platform/metrics/metrics.js';
import type { Page, PageRequest } from '../../platform/page.js';
import {
  type IssuedTokens,
  type JsonWebKeySet,
  TokenIssuerError,
  type TokenPort,
  type TokenVerifier,
} from '../../platform/tokens/tokens.js';
import { AuthErrors } from './auth.errors.js';
import type {
  AttemptsOn,
  LocalUser,
  LoginThrottleSettings,
  SignInLimits,
  UserSummary,
} from './auth.model.js';
import { dummyHash, hashPassword, verifyPassword } from './auth.passwords.js';
import type { AuthRepository } from './auth.repository.js';
import {
  clientKey,
  decideAttempt,
  normalizeUsername,
  passwordProblems,
  USERNAME_PATTERN,
} from './auth.rules.js';
import { MemoryThrottle } from './auth.throttle.js';

export interface AuthServiceDeps {
  readonly repository: AuthRepository;
  /** The runtime's token port; absent where no issuer is configured. */
  readonly tokens: TokenPort | undefined;
  readonly throttle: LoginThrottleSettings;
  readonly limits: SignInLimits;
  readonly clock: () => Date;
  /** Time-ordered unique ids (UUIDv7), for token subjects. */
  readonly newId: () => string;
  /**
   * SignInSucceeded, SignInFailed (wrong credentials), SignInThrottled (429, the username's
   * allowance), SignInClientThrottled (429, the address's allowance), SignInShed (503, too many
   * password checks at once).
   */
  readonly metrics: ModuleMetrics;
}

/** Throttle writes race only with other attempts on the same username; past this, 503. */
const MAX_THROTTLE_ATTEMPTS = 10;

/**
 * Sign-ins that may wait for a password check: a short queue (a check takes about 0.2 s), so a
 * waiter is answered within a second or so and the rest are told to come back rather than pile
 * up. With the checks running, more than the per-client burst: one address alone cannot fill it.
 */
const PASSWORD_CHECKS_WAITING = 6;

/** The password checks' one lane in their limiter. */
const PASSWORD_CHECKS = 'scrypt';

/** One attempt taken from a username's allowance. */
interface Attempt {
  /** The local user the username names, when counted on their item (undefined: nobody). */
  readonly user?: LocalUser;
  /** Gives the attempt back: the sign-in succeeded, or its password was never checked. */
  readonly giveBack: () => Promise<void>;
}

/**
 * Sign-in (username and password → tokens, from Cognito or the local issuer), with attempts
 * limited per client address and per username and local password checks admitted a few at a
 * time; and the local issuer's users.
 */
export class AuthService {
  /**
   * scrypt runs on libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise),
   * which file reads share: left unbounded, a burst of sign-ins holds every thread and the
   * console's static files wait behind them.
   */
  private readonly passwordChecks: KeyedLimiter;
  /** Per client address, in this process only (on AWS the gateway's throttles come first). */
  private readonly clients: MemoryThrottle;
  /**
   * Client addresses with a password check under way: one at a time each, so that one address's
   * burst cannot fill the checks' queue ahead of everyone else.
   */
  private readonly checking = new Set<string>();
  /** Usernames nobody has, counted like the others but never written to the table. */
  private readonly unknownNames: MemoryThrottle;

  constructor(private readonly deps: AuthServiceDeps) {
    const { limits } = deps;
    this.passwordChecks = keyedLimiter(limits.passwordConcurrency, {
      maxWaiting: PASSWORD_CHECKS_WAITING,
    });
    this.clients = new MemoryThrottle({
      burst: limits.clientBurst,
      decaySeconds: 60 / limits.clientPerMinute,
    });
    this.unknownNames = new MemoryThrottle(deps.throttle);
  }

  /**
   * Tokens for a username and password, asked for from `address` (undefined for an in-process
   * call, which no per-client limit applies to). Attempts are limited per client address, then
   * per username (429 each); a local password check waits for one of a few places, and is refused
   * when they and their queue are full (503) or when the same client already has one under way
   * (429) — before anything is written.
   *
   * A wrong password and an unknown username get the same error after the same work (the same
   * write requests, an scrypt run against a stand-in hash for the unknown one), and both count
   * against the username's allowance: a local user's on their item, an unknown username's in
   * memory, so that guessing names adds nothing to the table.
   */
  async signIn(username: string, password: string, address?: string): Promise<IssuedTokens> {
    const { tokens } = this.deps;
    if (!tokens) throw AuthErrors.noIssuer();
    const client = address === undefined ? undefined : clientKey(address);
    this.takeClientAttempt(client);
    const key = normalizeUsername(username);
    if (tokens.kind === 'user-pool') {
      const attempt = await this.takeAttempt('login', key);
      return this.settle(attempt, () => tokens.authenticate(username, password));
    }
    // Either would refuse the check after the write: refused now, nothing is written either.
    if (this.passwordChecks.isFull(PASSWORD_CHECKS)) throw this.shed();
    if (client !== undefined && this.checking.has(client)) throw this.clientBusy();
    const attempt = await this.takeAttempt('user', key);
    if (client !== undefined) {
      if (this.checking.has(client)) {
        await attempt.giveBack();
        throw this.clientBusy();
      }
      this.checking.add(client);
    }
    try {
      return await this.settle(attempt, async () =>
        tokens.issue(await this.checkPassword(attempt, password)),
      );
    } finally {
      if (client !== undefined) this.checking.delete(client);
    }
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

  /** Adds a user of the local issuer: this and the three methods below serve `npm run users`. */
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

  /** Signs in through `signIn`, mapping the issuer's refusals; gives the attempt back unless it was a guess. */
  private async settle(
    attempt: Attempt,
    signIn: () => Promise<IssuedTokens>,
  ): Promise<IssuedTokens> {
    let signedIn: IssuedTokens;
    try {
      signedIn = await signIn();
    } catch (error) {
      if (error instanceof LimiterFullError) {
        await attempt.giveBack();
        throw this.shed();
      }
      if (!(error instanceof TokenIssuerError)) throw error;
      switch (error.reason) {
        case 'invalid-credentials':
          this.deps.metrics.count('SignInFailed');
          throw AuthErrors.invalidCredentials();
        case 'throttled':
          throw AuthErrors.issuerThrottled();
        case 'challenge-required':
          await attempt.giveBack();
          throw AuthErrors.challengeRequired();
      }
    }
    await attempt.giveBack();
    this.deps.metrics.count('SignInSucceeded');
    return signedIn;
  }

  /** Takes one attempt from the client's allowance, or refuses (429). */
  private takeClientAttempt(client: string | undefined): void {
    if (client === undefined) return;
    const taken = this.clients.take(client, this.deps.clock().getTime());
    if (!taken.ok) {
      this.deps.metrics.count('SignInClientThrottled');
      throw AuthErrors.clientThrottled(taken.retryAfterSeconds);
    }
  }

  /**
   * Takes one attempt from the username's allowance, counted `on` the user's item or a throttle
   * item of its own, or refuses (429). An unknown local username is counted in memory instead,
   * after the same write requests a known one in the same state makes (they fail on their
   * condition and write nothing), so the time taken does not tell the two apart.
   */
  private async takeAttempt(on: AttemptsOn, username: string): Promise<Attempt> {
    const { repository, throttle } = this.deps;
    const interval = throttle.decaySeconds * 1000;
    let tat: number | undefined | 'unknown' = 'unknown';
    let nobody = false;
    for (let round = 0; round < MAX_THROTTLE_ATTEMPTS; round++) {
      const now = this.deps.clock().getTime();
      const decision = decideAttempt(tat, now, throttle);
      if (decision.kind === 'refuse') throw this.tooManyAttempts(decision.retryAfterSeconds);
      // A known user with nothing counting would have been done at the first write.
      if (nobody && decision.kind === 'start') return this.takeUnknownAttempt(username);
      const commit =
        decision.kind === 'start'
          ? await repository.startAttempts(on, username, decision.tat, now)
          : await repository.extendAttempts(on, username, decision.by, now, decision.limit);
      if (commit.ok) {
        return {
          ...(commit.user ? { user: commit.user } : {}),
          giveBack: () => repository.refundAttempt(on, username, interval),
        };
      }
      if (nobody) return this.takeUnknownAttempt(username);
      if (on === 'user' && !commit.exists) {
        // Nobody has this username: decide again on what memory holds for it.
        nobody = true;
        tat = this.unknownNames.tat(username);
        continue;
      }
      // Another attempt on this username landed in between: decide again on what it wrote.
      tat = commit.tat;
    }
    throw AuthErrors.busy();
  }

  private takeUnknownAttempt(username: string): Attempt {
    const taken = this.unknownNames.take(username, this.deps.clock().getTime());
    if (!taken.ok) throw this.tooManyAttempts(taken.retryAfterSeconds);
    return { giveBack: async () => this.unknownNames.giveBack(username) };
  }

  private tooManyAttempts(retryAfterSeconds: number) {
    this.deps.metrics.count('SignInThrottled');
    return AuthErrors.tooManyAttempts(retryAfterSeconds);
  }

  private clientBusy() {
    this.deps.metrics.count('SignInClientThrottled');
    return AuthErrors.clientBusy();
  }

  private shed() {
    this.deps.metrics.count('SignInShed');
    return AuthErrors.signInBusy();
  }

  /**
   * The user whose password this is, or a TokenIssuerError after the same work (an unknown user's
   * against the stand-in hash); LimiterFullError when no check place is free nor queued for.
   */
  private async checkPassword(attempt: Attempt, password: string) {
    const { user } = attempt;
    const matches = await this.passwordChecks.run(PASSWORD_CHECKS, async () =>
      verifyPassword(password, user?.passwordHash ?? (await dummyHash())),
    );
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
