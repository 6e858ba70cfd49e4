import { AppError, conflict, notFound, unavailable } from '../../platform/errors.js';
import { PASSWORD_POLICY_TEXT } from './auth.rules.js';

/** Stable codes for everything the auth module answers with besides success. */
export const AuthErrors = {
  /** One answer for an unknown user and a wrong password: it must not tell them apart. */
  invalidCredentials: () =>
    new AppError('unauthorized', 'AUTH.INVALID_CREDENTIALS', 'Unauthorized', {
      detail: 'The username or the password is wrong.',
    }),
  tooManyAttempts: (retryAfter: number) =>
    new AppError('throttled', 'AUTH.TOO_MANY_ATTEMPTS', 'Too Many Requests', {
      detail: 'Too many failed sign-ins for this username; retry after the indicated delay.',
      retryAfter,
    }),
  clientThrottled: (retryAfter: number) =>
    new AppError('throttled', 'AUTH.CLIENT_THROTTLED', 'Too Many Requests', {
      detail: 'Too many sign-in attempts from this address; retry after the indicated delay.',
      retryAfter,
    }),
  clientBusy: () =>
    new AppError('throttled', 'AUTH.CLIENT_BUSY', 'Too Many Requests', {
      detail: 'A sign-in from this address is already being checked; retry once it is answered.',
      retryAfter: 1,
    }),
  /** The password checks this process runs at once, and their queue, are full. */
  signInBusy: () =>
    unavailable(
      'AUTH.SIGN_IN_BUSY',
      'Too many sign-ins are being checked at the moment; retry shortly.',
      1,
    ),
  issuerThrottled: () =>
    new AppError('throttled', 'AUTH.ISSUER_THROTTLED', 'Too Many Requests', {
      detail: 'The identity provider is throttling sign-ins; retry after the indicated delay.',
      retryAfter: 1,
    }),
  challengeRequired: () =>
    new AppError('forbidden', 'AUTH.CHALLENGE_REQUIRED', 'Forbidden', {
      detail:
        'The identity provider requires a further step for this user (such as a new password); complete it there first.',
    }),
  noIssuer: () =>
    unavailable('AUTH.NO_TOKEN_ISSUER', 'No token issuer is configured for this deployment.', 60),
  tokensNotAccepted: () =>
    new AppError('unauthorized', 'AUTH.TOKEN_INVALID', 'Unauthorized', {
      detail: 'Bearer tokens are not accepted: no token issuer is configured.',
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    }),
  usersElsewhere: () =>
    conflict(
      'AUTH.USERS_MANAGED_BY_PROVIDER',
      'Users are managed in the Cognito user pool, not by this deployment.',
    ),
  invalidUsername: (username: string) =>
    new AppError('validation', 'AUTH.INVALID_USERNAME', 'Unprocessable Content', {
      detail: `"${username}" is not a valid username: 1–128 of a-z 0-9 . _ @ + -, starting with a letter or digit.`,
    }),
  weakPassword: (problems: readonly string[]) =>
    new AppError('validation', 'AUTH.WEAK_PASSWORD', 'Unprocessable Content', {
      detail: `The password is refused (${problems.join(', ')}). The policy: ${PASSWORD_POLICY_TEXT}.`,
    }),
  userExists: (username: string) =>
    conflict('AUTH.USER_EXISTS', `User ${username} already exists.`),
  userNotFound: (username: string) =>
    notFound('AUTH.USER_NOT_FOUND', `User ${username} does not exist.`),
  busy: () =>
    unavailable('AUTH.BUSY', 'Too many concurrent sign-ins for this username; retry shortly.', 1),
} satisfies Record<string, (...args: never[]) => AppError>;
