import type { Exercise } from './types.js';

export const exercise: Exercise = {
  access: {
    scenarios: () => [],
    notExercised: {
      api:
        'on AWS its routes sign in against Cognito and keep only the per-username throttle; here ' +
        'they run against the local issuer and its users table, which AWS never sees',
      authorizer: 'the gateway authorizer verifies tokens and reads no table (it is granted none)',
    },
  },
  load: {
    none:
      'its users are made by `npm run users` (or in Cognito), not through the API, and a ' +
      'sign-in leaves nothing a restart must keep',
  },
  soak: {
    none:
      'the soak signs in once, for the bearer token its SLA errors are filed with: sign-in is ' +
      'throttled per username and address, and its load is the bench’s sign-in flood',
  },
  bench: {
    run: async (stack, tools) =>
      (await import('../../../bench/support/signin-flood.js')).authSection(stack, tools),
  },
};
