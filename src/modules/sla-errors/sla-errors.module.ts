import { S, type TableDefinition } from '../../platform/dynamo/tables.js';
import { defineModule } from '../../platform/module.js';
import { DynamoSlaErrorRepository } from './sla-errors.dynamo.js';
import { slaErrorEvents } from './sla-errors.model.js';
import { slaErrorRoutes, slaErrorsEventSchemas } from './sla-errors.routes.js';
import { SlaErrorsService } from './sla-errors.service.js';
import { slaErrorStatsRoutes } from './sla-errors.stats.routes.js';

/**
 * sla-errors: one item per record (keys in sla-errors.dynamo.ts).
 * - gsi1  all records by time      GSI1PK=SLA_ERRORS          GSI1SK=<receivedAt>#<id>
 * - gsi2  one file's records       GSI2PK=FILE#<fileName>     GSI2SK=<receivedAt>#<id>
 */
export const slaErrorsTable = {
  id: 'sla-errors',
  partitionKey: S('PK'),
  globalIndexes: [
    { indexName: 'gsi1', partitionKey: S('GSI1PK'), sortKey: S('GSI1SK') },
    { indexName: 'gsi2', partitionKey: S('GSI2PK'), sortKey: S('GSI2SK') },
  ],
  timeToLiveAttribute: 'expiresAt',
} as const satisfies TableDefinition;

/** SLA error records, filed only by callers holding a valid JWT. */
export const slaErrorsModule = defineModule({
  name: 'sla-errors',
  tables: [slaErrorsTable],
  services: (context) => ({
    slaErrors: new SlaErrorsService({
      repository: new DynamoSlaErrorRepository(context.table(slaErrorsTable), context.outbox),
      newId: context.newId,
      clock: context.clock,
      metrics: context.metrics,
      outbox: context.outbox,
    }),
  }),
  // The stats first: `/sla-errors/{id}` would take `stats` for an id.
  routes: ({ slaErrors }) => [slaErrorStatsRoutes(slaErrors), slaErrorRoutes(slaErrors)],
  tags: [{ name: 'sla-errors', description: 'SLA error records, filed with a bearer token' }],
  domainEventSchemas: slaErrorsEventSchemas,
  domainEvents: [
    {
      type: slaErrorEvents.recorded,
      description: 'An SLA error record was filed (sequence 1: records are never changed).',
    },
  ],
});
