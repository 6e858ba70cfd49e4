import { customersModule } from '../../src/modules/customers/customers.module.js';
import type { ExecutionResponse } from '../../src/modules/customers/customers.schemas.js';
import { createLogger } from '../../src/platform/logger.js';
import type { Ports } from '../../src/platform/module.js';
import { type LocalAdapters, localAdapters } from '../../src/runtime/local/adapters.js';
import { createTestApp, type TestApp, type TestAppOptions } from '../support/app.js';
import { bodyOf } from '../support/fixture-app.js';

export { bodyOf, expectProblem, uniqueId } from '../support/fixture-app.js';
export type Execution = ExecutionResponse;

export interface CustomersApp extends TestApp {
  /** The local workflow engine and event bus this app's ports are (or wrap). */
  readonly adapters: LocalAdapters;
  /** Resolves when no event delivery and no execution is under way. */
  readonly idle: () => Promise<void>;
}

export interface CustomersAppOptions extends Omit<TestAppOptions, 'modules' | 'ports'> {
  /** Wrap the local ports (inject a fault into the bus or the engine). */
  readonly wrap?: (ports: LocalAdapters['ports']) => Ports;
  /** Retry pauses of the local engine, in ms (default 5: the retry path without waiting). */
  readonly retryIntervalMs?: number;
  /** Where the bus and the engine journal what they accept (the local runtime's data directory). */
  readonly journalDir?: string;
}

/** The real app with the customers module on DynamoDB Local and the local adapters. */
export async function createCustomersApp(options: CustomersAppOptions = {}): Promise<CustomersApp> {
  let adapters: LocalAdapters | undefined;
  const { wrap, retryIntervalMs, journalDir, ...rest } = options;
  const app = await createTestApp({
    ...rest,
    modules: [customersModule],
    ports: (container) => {
      adapters = localAdapters({
        modules: [customersModule],
        logger: createLogger('silent'),
        container,
        retryIntervalMs: retryIntervalMs ?? 5,
        ...(journalDir !== undefined ? { journalDir } : {}),
      });
      return wrap ? wrap(adapters.ports) : adapters.ports;
    },
  });
  if (!adapters) throw new Error('no adapters');
  const built = adapters;
  return { ...app, adapters: built, idle: () => built.idle() };
}

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** POST /workflow/submit, then waits for the execution (and anything it set off) to finish. */
export async function submitAndWait(app: CustomersApp, id: string): Promise<Execution> {
  const { executionId } = await bodyOf<{ executionId: string }>(
    await app.call('/workflow/submit', { method: 'POST', json: { id } }),
    202,
  );
  await app.idle();
  return execution(app, executionId);
}

export async function execution(app: CustomersApp, executionId: string): Promise<Execution> {
  return bodyOf<Execution>(await app.call(`/workflow/executions/${executionId}`), 200);
}

export async function executionsOf(app: CustomersApp, id: string): Promise<Execution[]> {
  return bodyOf<Execution[]>(await app.call(`/workflow/executions?id=${id}`), 200);
}

export async function exists(app: CustomersApp, id: string): Promise<boolean> {
  return (await bodyOf<{ exists: boolean }>(await app.call(`/customers/${id}`), 200)).exists;
}
