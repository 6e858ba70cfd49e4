import * as z from 'zod/mini';
import { integerSetting } from '../../platform/input.js';
import { defineModule } from '../../platform/module.js';
import { authTable } from './auth.resources.js';

// What `npm run users` prints of the policy: the runtime sees a module only through this file.
export { PASSWORD_POLICY_TEXT } from './auth.rules.js';
export { authTable };

const settings = z.object({
  /** Failed sign-ins a username may have in a row before it is throttled (429). */
  loginFailureBurst: integerSetting(5, { min: 1, max: 1000 }),
  /** Seconds one failed sign-in counts: the allowance comes back one attempt per this. */
  loginFailureDecaySeconds: integerSetting(60, { min: 1, max: 86_400 }),
  /**
   * Password checks (scrypt: 32 MiB and about 0.2 s of a core each) run at once per process; 6
   * more may wait, the rest are answered 503. Keep it below libuv's thread pool
   * (UV_THREADPOOL_SIZE, 4 by default), which file reads share, and below the cores, which the
   * event loop needs: 1 leaves a core of a 2-core machine to everything else.
   */
  passwordConcurrency: integerSetting(1, { min: 1, max: 64 }),
  /**
   * Sign-in attempts one client address may make in a row before it is answered 429. Below the
   * password checks' places and queue (AUTH_PASSWORD_CONCURRENCY + 6), so that one address alone
   * cannot fill them and turn everyone else away.
   */
  clientSigninBurst: integerSetting(5, { min: 1, max: 10_000 }),
  /** After the burst, sign-in attempts per minute one client address may make (per process). */
  clientSigninRate: integerSetting(30, { min: 1, max: 60_000 }),
});

/** Sign-in and tokens: Cognito on AWS, the local issuer and its users locally. */
export const authModule = defineModule({
  name: 'auth',
  tables: [authTable],
  settings,
  // Its code (services, routers) loads with `load`: in the API Lambda, on the first request to
  // one of these routes or the first bearer token to verify (docs/decisions/lazy-modules.md).
  load: () => import('./auth.code.js'),
  routes: [
    'POST /auth/token public',
    // Served only where the app issues its own tokens (the local runtime): a 404 on AWS.
    'GET /.well-known/jwks.json public optional',
  ],
  tags: [{ name: 'auth', description: 'Sign-in: username and password → bearer tokens' }],
  tokenVerifier: ({ auth }) => auth.verifyToken,
});
