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
