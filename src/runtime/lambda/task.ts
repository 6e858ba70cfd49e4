import { modules } from '../../modules/index.js';
import { ConfigError } from '../../platform/config.js';
import type { AnyModule } from '../../platform/module.js';
import { lambdaContainer } from './bootstrap.js';

/**
 * One module task (`ROSTER_TASK=<module>/<task>`, set by the stack), invoked by its trigger
 * (EventBridge Scheduler, …) with the trigger's event as input. The same task definitions run
 * locally on timers (src/runtime/local/tasks.ts).
 */
const container = await lambdaContainer();
const [moduleName, taskName] = (container.config.task ?? '').split('/');
const module = (modules as readonly AnyModule[]).find((m) => m.name === moduleName);
const task = module?.tasks?.find((t) => t.name === taskName);
if (!module || !task) {
  throw new ConfigError(
    `Invalid configuration: ROSTER_TASK names no task (${container.config.task})`,
  );
}
const services = container.servicesOf(module);

export const handler = async (event: unknown): Promise<unknown> => task.run(services, event);
