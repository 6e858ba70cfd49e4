import type { Logger } from '../../platform/logger.js';
import type { AnyModule, TaskDefinition } from '../../platform/module.js';
import { rateToMs } from '../../platform/schedule.js';
import type { Container } from '../container.js';
import type { ConsumerOptions, LocalQueues } from './queue.js';

export interface LocalTasks {
  /** Runs the start-up tasks (in list order), then starts the schedules. */
  start(): Promise<void>;
  /** Stops the schedules and waits for runs in progress. */
  stop(): Promise<void>;
}

/**
 * The local stand-in for EventBridge Scheduler and the task Lambda: every module task runs in
 * this process, on its schedule (a timer that starts the next run when the previous one has
 * finished, so runs never overlap) and, if it asks, once at start-up. A failed run is logged and
 * the schedule goes on, as a scheduled Lambda would be invoked again.
 */
export function localTasks(
  container: Container,
  logger: Logger,
  /** The local queues, for tasks with a queue trigger (consumed by pollers). */
  queueing?: { readonly queues: LocalQueues; readonly consumer?: ConsumerOptions },
): LocalTasks {
  const timers = new Set<NodeJS.Timeout>();
  const consumers: (() => Promise<void>)[] = [];
  const running = new Set<Promise<unknown>>();
  let stopped = false;

  const tasks = container.modules.flatMap((module) =>
    (module.tasks ?? []).map((task) => ({ module, task })),
  );

  const run = async (module: AnyModule, task: TaskDefinition, trigger: string) => {
    const name = `${module.name}/${task.name}`;
    const started = performance.now();
    const work = task.run(container.servicesOf(module), { trigger });
    running.add(work);
    try {
      const result = await work;
      logger.debug('task finished', {
        task: name,
        trigger,
        durationMs: Math.round(performance.now() - started),
        result,
      });
    } catch (error) {
      logger.error('task failed', { task: name, trigger, error });
    } finally {
      running.delete(work);
    }
  };

  return {
    async start() {
      for (const { module, task } of tasks) {
        if (!task.queue) continue;
        if (!queueing) throw new Error(`${module.name}/${task.name} consumes a queue: no queues`);
        const services = container.servicesOf(module);
        consumers.push(
          queueing.queues.consume(
            task.queue,
            (message) => task.run(services, message),
            queueing.consumer,
          ),
        );
      }
      for (const { module, task } of tasks) {
        if (task.startup) await run(module, task, 'startup');
      }
      for (const { module, task } of tasks) {
        const rate = task.schedule?.(container.config.settings[module.name]);
        if (!rate) continue;
        const every = rateToMs(rate);
        const next = () => {
          if (stopped) return;
          const timer = setTimeout(async () => {
            timers.delete(timer);
            await run(module, task, 'schedule');
            next();
          }, every);
          timer.unref();
          timers.add(timer);
        };
        next();
      }
    },
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await Promise.allSettled([...running, ...consumers.map((stop) => stop())]);
    },
  };
}
