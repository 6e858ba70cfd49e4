import { authModule } from './auth/auth.module.js';
import { customersModule } from './customers/customers.module.js';
import { enrollmentsModule } from './enrollments/enrollments.module.js';
import { eventsModule } from './events/events.module.js';
import { slaErrorsModule } from './sla-errors/sla-errors.module.js';
import { webhooksModule } from './webhooks/webhooks.module.js';

/**
 * Every module of Roster, once. The container, the local runtime, the Lambda entries, the test
 * setup, the bench and the CDK stack all read this list: adding a module is a folder under
 * src/modules/ and one line here, plus its exercise under test/support/exercises/ (the checks
 * fail naming a module without one; see "Adding a module" in the README).
 */
export const modules = [
  eventsModule,
  enrollmentsModule,
  customersModule,
  authModule,
  slaErrorsModule,
  webhooksModule,
] as const;

// Every module's code, loaded as the process starts (the local runtime, the tests, the CDK app,
// the scripts): services and routers are then at hand synchronously. The API Lambda's bundle gets
// a list without this line (infra/bundling.ts) and loads a module's code on the first request to
// one of its routes; other Lambdas load it as they start (lambdaContainer).
await Promise.all(modules.map((module) => module.load?.()));
