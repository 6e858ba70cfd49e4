import { hasOperation } from '../../api/client';

/** The operations each panel reads: a panel shows only when the API has its operation. */
export const DASHBOARD_OPERATIONS = {
  events: 'GET /events/{eventId}/stats',
  enrollments: 'GET /enrollments/stats',
  slaErrors: 'GET /sla-errors/stats',
  runs: 'GET /workflow/executions/stats',
} as const;

/** Whether the API has anything the dashboard shows. */
export const hasDashboard = (): boolean =>
  Object.values(DASHBOARD_OPERATIONS).some((operation) => hasOperation(operation));
