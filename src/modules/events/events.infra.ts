import type { ModuleInfra } from '../../../infra/module-infra.js';
import { eventsTable } from './events.module.js';

/**
 * The events module on AWS: its table (built by the stack from `eventsTable`) read and written by
 * the API Lambda and by the deletion sweep (a scheduled task Lambda, also built by the stack).
 */
export const infra: ModuleInfra = (_scope, { table, apiFunction, taskFunctions }) => {
  const events = table(eventsTable);
  events.grantReadWriteData(apiFunction);
  for (const fn of taskFunctions.values()) events.grantReadWriteData(fn);
};
