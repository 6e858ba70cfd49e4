import type { ModuleContext, Ports } from '../../platform/module.js';
import { DynamoCustomerRepository } from './customers.dynamo.js';
import { customersTable } from './customers.resources.js';
import { customerRoutes, customersEventSchemas, workflowRoutes } from './customers.routes.js';
import { CustomersService, WorkflowService } from './customers.service.js';
import { workflowStatsRoutes } from './customers.stats.routes.js';
import { WorkflowSteps } from './customers.steps.js';

/**
 * The customers module's code, behind its definition's `load` (customers.module.ts): the API
 * Lambda loads it on the first request to one of the module's routes.
 */

/** The settings the services read (customers.module.ts parses them). */
interface Settings {
  readonly outboxGraceSeconds: number;
  readonly listBackfillPageSize: number;
}

/** A port the runtime must provide; asked for on use, so the app can be described offline. */
function port<K extends keyof Ports>(context: ModuleContext<Settings>, key: K) {
  return (): NonNullable<Ports[K]> => {
    const found = context.ports[key];
    if (!found) throw new Error(`the runtime provides no "${key}" port`);
    return found;
  };
}

export function services(context: ModuleContext<Settings>) {
  const { clock, newId, logger, metrics, outbox } = context;
  const repository = new DynamoCustomerRepository(context.table(customersTable), outbox);
  const deps = { repository, clock, newId, logger, metrics };
  return {
    customers: new CustomersService({
      ...deps,
      events: port(context, 'events'),
      outboxGraceSeconds: context.settings.outboxGraceSeconds,
      backfillPageSize: context.settings.listBackfillPageSize,
      outbox,
    }),
    workflow: new WorkflowService({ ...deps, workflows: port(context, 'workflows') }),
    steps: new WorkflowSteps({ ...deps, outbox }),
  };
}

/** In the route table's order (customers.module.ts). */
export const routers = ({ customers, workflow }: ReturnType<typeof services>) => [
  customerRoutes(customers),
  // Before `/workflow/executions/{executionId}`.
  workflowStatsRoutes(workflow),
  workflowRoutes(workflow),
];

export const domainEventSchemas = customersEventSchemas;
