import { join } from 'node:path';
import type { Logger } from '../../platform/logger.js';
import { MemoryMetrics } from '../../platform/metrics/metrics.js';
import type { AnyModule, Ports } from '../../platform/module.js';
import type { Container } from '../container.js';
import { LocalEventBus } from './event-bus.js';
import { LocalQueues } from './queue.js';
import { LocalTimers } from './timers.js';
import { LocalWorkflows } from './workflows.js';

export interface LocalAdapters {
  /** What the container's `ports` gets. */
  readonly ports: Required<Pick<Ports, 'queues' | 'workflows' | 'events' | 'metrics' | 'timers'>>;
  /** In-memory queues with SQS's semantics (their consumers are started by the task runner). */
  readonly queues: LocalQueues;
  /** Timers that send to those queues (lost with the process, as the port says). */
  readonly timers: LocalTimers;
  readonly workflows: LocalWorkflows;
  readonly events: LocalEventBus;
  /** What the modules counted (CloudWatch metrics on AWS). */
  readonly metrics: MemoryMetrics;
  /**
   * Resolves when no event delivery and no workflow execution is under way (and the bus's
   * journal is up to date).
   */
  idle(): Promise<void>;
  /** Lets running executions finish (for a while), then aborts the rest. */
  stop(): Promise<void>;
}

export interface LocalAdaptersOptions {
  readonly modules: readonly AnyModule[];
  readonly logger: Logger;
  /** The container the adapters run module tasks in, once it exists (it is built with them). */
  readonly container: () => Container;
  /** See LocalWorkflowsOptions.retryIntervalMs. */
  readonly retryIntervalMs?: number;
  /**
   * Where the event bus and the workflow engine keep what they accepted, so that a crash loses
   * none of it (`<dir>/event-bus`, `<dir>/workflows`: the local runtime's data directory).
   * Without one, both hold it in memory only (tests).
   */
  readonly journalDir?: string;
}

/**
 * The local stand-ins for what crosses a process boundary on AWS: queues with SQS's semantics, a
 * workflow engine running the modules' ASL files in-process and an event bus delivering to the
 * modules' rules.
 */
export function localAdapters(options: LocalAdaptersOptions): LocalAdapters {
  const { modules, logger, journalDir } = options;
  const workflows = new LocalWorkflows({
    modules,
    logger,
    ...(journalDir !== undefined ? { journal: join(journalDir, 'workflows') } : {}),
    ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
    runTask: (module, name, input) => {
      const task = module.tasks?.find((t) => t.name === name);
      if (!task) throw new Error(`module "${module.name}" has no task "${name}"`);
      return task.run(options.container().servicesOf(module), input);
    },
  });
  const events = new LocalEventBus(
    modules,
    workflows,
    logger,
    journalDir !== undefined ? { journal: join(journalDir, 'event-bus') } : {},
  );
  const queues = new LocalQueues({ logger });
  const timers = new LocalTimers(queues, logger);
  const metrics = new MemoryMetrics();
  return {
    ports: { queues, workflows, events, metrics, timers },
    queues,
    timers,
    workflows,
    events,
    metrics,
    async idle() {
      // A delivery starts an execution, and an execution may publish: until both are quiet.
      while (events.pending > 0 || workflows.running > 0) {
        await events.idle();
        await workflows.idle();
      }
      await workflows.flushed();
    },
    async stop() {
      timers.stop();
      await events.idle();
      await workflows.stop();
      // Ended executions leave the journal; aborted ones stay there for the next start.
      await workflows.flushed();
    },
  };
}
