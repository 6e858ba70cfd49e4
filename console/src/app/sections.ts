import type { RouteObject } from 'react-router';
import { hasOperation } from '../api/client';
import { customersSection } from '../screens/customers';
import { enrollmentsSection } from '../screens/enrollments';
import { eventsSection } from '../screens/events';
import { slaErrorsSection } from '../screens/sla-errors';

/**
 * One section per API module: its navigation links and its routes. A module's screens are one
 * folder under `src/screens/` and one line in `sections` below; a section whose module the API
 * doesn't have (`requires` is not in the OpenAPI document) is left out.
 */
export interface ConsoleSection {
  /** An operation of the module, `METHOD /path`: the section shows only when the API has it. */
  readonly requires: string;
  readonly links: readonly { readonly to: string; readonly label: string }[];
  /** Paths relative to the console's root (`events/:eventId`). */
  readonly routes: readonly RouteObject[];
}

const sections: readonly ConsoleSection[] = [
  eventsSection,
  enrollmentsSection,
  customersSection,
  slaErrorsSection,
];

export const availableSections = (): ConsoleSection[] =>
  sections.filter((section) => hasOperation(section.requires));
