import type { ConsoleSection } from '../../app/section';
import { NewSlaError } from './NewSlaError';
import { SlaErrorsList } from './SlaErrorsList';

/** The sla-errors module: records listed by file and time, filed by signed-in users. */
export const slaErrorsSection: ConsoleSection = {
  requires: 'GET /sla-errors',
  links: [{ to: '/sla-errors', label: 'SLA errors' }],
  routes: [
    { path: 'sla-errors', element: <SlaErrorsList /> },
    { path: 'sla-errors/new', element: <NewSlaError /> },
  ],
};
