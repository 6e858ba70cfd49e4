import type { ModuleContext } from '../../platform/module.js';
import { DynamoSlaErrorRepository } from './sla-errors.dynamo.js';
import { slaErrorsTable } from './sla-errors.resources.js';
import { slaErrorRoutes, slaErrorsEventSchemas } from './sla-errors.routes.js';
import { SlaErrorsService } from './sla-errors.service.js';
import { slaErrorStatsRoutes } from './sla-errors.stats.routes.js';

/**
 * The sla-errors module's code, behind its definition's `load` (sla-errors.module.ts): the API
 * Lambda loads it on the first request to one of the module's routes.
 */

export const services = (context: ModuleContext) => ({
  slaErrors: new SlaErrorsService({
    repository: new DynamoSlaErrorRepository(context.table(slaErrorsTable), context.outbox),
    newId: context.newId,
    clock: context.clock,
    metrics: context.metrics,
    outbox: context.outbox,
  }),
});

/** In the route table's order (sla-errors.module.ts). */
export const routers = ({ slaErrors }: ReturnType<typeof services>) => [
  slaErrorStatsRoutes(slaErrors),
  slaErrorRoutes(slaErrors),
];

export const domainEventSchemas = slaErrorsEventSchemas;
