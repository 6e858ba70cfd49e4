import type { ModuleContext } from '../../platform/module.js';
import { queueOf } from '../../platform/queue/queue.js';
import { DynamoEnrollmentRepository } from './enrollments.dynamo.js';
import { enrollmentQueue, enrollmentsTable } from './enrollments.resources.js';
import { ageGroupRoutes, enrollmentRoutes, enrollmentsEventSchemas } from './enrollments.routes.js';
import { cpfGuardKey } from './enrollments.rules.js';
import { EnrollmentsService } from './enrollments.service.js';
import { enrollmentStatsRoutes } from './enrollments.stats.routes.js';

/**
 * The enrollments module's code, behind its definition's `load` (enrollments.module.ts): the API
 * Lambda loads it on the first request to one of the module's routes.
 */

/** The settings the services read (enrollments.module.ts parses them). */
interface Settings {
  readonly reconcileAfterSeconds: number;
}

export const services = (context: ModuleContext<Settings>) => ({
  enrollments: new EnrollmentsService({
    repository: new DynamoEnrollmentRepository(context.table(enrollmentsTable), context.outbox),
    queue: queueOf(context.ports.queues, enrollmentQueue),
    cpfKey: async (digits) => cpfGuardKey((await context.secrets()).key('cpf'), digits),
    newId: context.newId,
    clock: context.clock,
    logger: context.logger,
    reconcileAfterSeconds: context.settings.reconcileAfterSeconds,
    metrics: context.metrics,
    outbox: context.outbox,
  }),
});

/** In the route table's order (enrollments.module.ts). */
export const routers = ({ enrollments }: ReturnType<typeof services>) => [
  ageGroupRoutes(enrollments),
  // Before `/enrollments/{id}`.
  enrollmentStatsRoutes(enrollments),
  enrollmentRoutes(enrollments),
];

export const domainEventSchemas = enrollmentsEventSchemas;
