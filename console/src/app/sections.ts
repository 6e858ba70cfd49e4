import { hasOperation } from '../api/client';
import { customersSection } from '../screens/customers';
import { enrollmentsSection } from '../screens/enrollments';
import { eventsSection } from '../screens/events';
import { slaErrorsSection } from '../screens/sla-errors';
import { webhooksSection } from '../screens/webhooks';
import type { ConsoleSection } from './section';

/**
 * One section per API module (see ConsoleSection). A module's screens are one folder under
 * `src/screens/` and one line in `sections` below; a section whose module the API doesn't have
 * (`requires` is not in the OpenAPI document) is left out.
 */
const sections: readonly ConsoleSection[] = [
  eventsSection,
  enrollmentsSection,
  customersSection,
  slaErrorsSection,
  webhooksSection,
];

export const availableSections = (): ConsoleSection[] =>
  sections.filter((section) => hasOperation(section.requires));
