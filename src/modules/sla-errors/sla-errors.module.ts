import { defineModule } from '../../platform/module.js';
import { slaErrorEvents } from './sla-errors.model.js';
import { slaErrorsTable } from './sla-errors.resources.js';

export { slaErrorsTable };

/** SLA error records, filed only by callers holding a valid JWT. */
export const slaErrorsModule = defineModule({
  name: 'sla-errors',
  tables: [slaErrorsTable],
  // Its code (services, routers, the schemas of its events) loads with `load`: in the API
  // Lambda, on the first request to one of these routes (docs/decisions/lazy-modules.md).
  load: () => import('./sla-errors.code.js'),
  routes: [
    // The stats first: `/sla-errors/{id}` would take `stats` for an id.
    'GET /sla-errors/stats',
    'POST /sla-errors',
    'GET /sla-errors',
    'GET /sla-errors.csv csv',
    'GET /sla-errors/{id}',
  ],
  tags: [{ name: 'sla-errors', description: 'SLA error records, filed with a bearer token' }],
  domainEvents: [
    {
      type: slaErrorEvents.recorded,
      description: 'An SLA error record was filed (sequence 1: records are never changed).',
    },
  ],
});
