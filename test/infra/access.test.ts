import { describe, expect, it } from 'vitest';
import type { DynamoAction, ModuleAccess, TableAccess } from '../../infra/access.js';
import { timerQueuesSetBy } from '../../infra/constructs/timers.js';
import { loadModuleInfra } from '../../infra/module-infra.js';
import { PLATFORM_ACCESS } from '../../infra/roster-stack.js';
import { soakRoutes } from '../../scripts/soak/load.js';
import { eventsModule } from '../../src/modules/events/events.module.js';
import { modules } from '../../src/modules/index.js';
import type { DynamoClients } from '../../src/platform/dynamo/client.js';
import { type AnyModule, defineModule, type Ports } from '../../src/platform/module.js';
import type { QueueDefinition } from '../../src/platform/queue/queue.js';
import { timersOf } from '../../src/platform/timers/timers.js';
import { LocalQueues } from '../../src/runtime/local/queue.js';
import { LocalTimers } from '../../src/runtime/local/timers.js';
import { MixedLoad } from '../hardening/mixed-load.js';
import { createTestApp, type TestApp, type TestAppOptions } from '../support/app.js';
import { exerciseProblems, samplePlan, sampleRun } from '../support/exercises/coverage.js';
import {
  type AccessAppOptions,
  type AccessHarness,
  type AccessScenario,
  type Exercise,
  exerciseOf,
  exercisesOf,
  type RecordedApp,
} from '../support/exercises/index.js';

/*
 * The least-privilege declarations (`access` in each <m>.infra.ts) against what the code really
 * sends. A recorder at the front of the DynamoDB client turns every call into what IAM checks
 * (`PutItem customers`, `Query events/index/gsi1`, one entry per item of a transaction), and one
 * on the timer port each timer set into `CreateSchedule queue:<id>` (what the stack grants by
 * `timerQueuesSetBy`: a module's own `timerTarget` queues, to its tasks and API); each
 * function's work — the module's routes through the HTTP app, each task's `run` — must stay
 * within what its declaration grants on AWS. The work comes from each module of the list, in its
 * exercise (test/support/exercises/<m>.ts): every function a module declares, routes or tasks is
 * driven there or excused with a reason, or the first test below fails naming it — the same test
 * that holds the crash load, the soak and the bench to the module list.
 */

const infra = await loadModuleInfra(modules);
const accessOf = (module: AnyModule): ModuleAccess => {
  const found = infra.get(module)?.access;
  if (!found) throw new Error(`no access declared by ${module.name}`);
  return found;
};
/** What `module` declares for its function `name`. */
const grantsOf = (module: AnyModule, name: string): readonly TableAccess[] => {
  const found = accessOf(module)[name];
  if (!found) throw new Error(`${module.name} declares nothing for "${name}"`);
  return found;
};

/** `Action table` / `Query table/index/name`, by table id, as the declarations grant them. */
function granted(accesses: readonly TableAccess[]): Set<string> {
  return new Set(
    accesses.flatMap((access) => [
      ...access.actions.map((action) => `${action} ${access.table.id}`),
      ...(access.indexes ?? []).map((index) => `Query ${access.table.id}/index/${index}`),
    ]),
  );
}

interface Recorder {
  /** For `createTestApp({ dynamo })`. */
  readonly install: (clients: DynamoClients) => DynamoClients;
  /** For `createTestApp({ ports })`: the same ports, with every timer set recorded. */
  readonly timers: (ports: TestAppOptions['ports']) => TestAppOptions['ports'];
  /** Records what `work` sends, on the tables of `app` (by id). */
  readonly during: (app: TestApp, work: () => Promise<unknown>) => Promise<Set<string>>;
}

function recorder(): Recorder {
  let calls: Set<string> | undefined;
  let ids: Record<string, string> = {};
  const note = (action: DynamoAction | 'Scan' | string, table: unknown, index?: unknown) => {
    const id = ids[String(table)] ?? `unknown-table:${String(table)}`;
    calls?.add(`${action} ${id}${index ? `/index/${String(index)}` : ''}`);
  };
  // Only where the scenario gave timers: without a port, setting one fails as it would anyway.
  const recordTimers = (ports: Ports): Ports => {
    const port = ports.timers;
    if (!port) return ports;
    return {
      ...ports,
      timers: {
        timers: (queue) => {
          const timers = port.timers(queue);
          return {
            set: (name, at, body) => {
              calls?.add(timerCall(queue));
              return timers.set(name, at, body);
            },
          };
        },
      },
    };
  };
  return {
    timers: (ports) =>
      typeof ports === 'function'
        ? (container) => recordTimers(ports(container))
        : ports && recordTimers(ports),
    install(clients) {
      clients.client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = (args as { input: Record<string, unknown> }).input;
          const command = (context.commandName ?? '').replace(/Command$/, '');
          switch (command) {
            case 'GetItem':
            case 'PutItem':
            case 'UpdateItem':
            case 'DeleteItem':
            case 'Scan':
              note(command, input.TableName);
              break;
            case 'Query':
              note('Query', input.TableName, input.IndexName);
              break;
            case 'BatchGetItem':
            case 'BatchWriteItem':
              for (const table of Object.keys(input.RequestItems as object)) note(command, table);
              break;
            case 'TransactWriteItems':
            case 'TransactGetItems':
              for (const item of input.TransactItems as Record<string, { TableName: string }>[]) {
                for (const [kind, { TableName }] of Object.entries(item)) {
                  const action =
                    kind === 'Put'
                      ? 'PutItem'
                      : kind === 'Update'
                        ? 'UpdateItem'
                        : kind === 'Delete'
                          ? 'DeleteItem'
                          : kind === 'ConditionCheck'
                            ? 'ConditionCheckItem'
                            : 'GetItem';
                  note(action, TableName);
                }
              }
              break;
            default:
              note(command, input.TableName);
          }
          return next(args);
        },
        { step: 'initialize', name: 'accessRecorder' },
      );
      return clients;
    },
    async during(app, work) {
      ids = Object.fromEntries(Object.entries(app.config.tables).map(([id, name]) => [name, id]));
      calls = new Set();
      try {
        await work();
        return calls;
      } finally {
        calls = undefined;
      }
    },
  };
}

/** `app.call` that insists on a 2xx, so a scenario cannot pass by not doing its work. */
async function ok(app: TestApp, path: string, init: Parameters<TestApp['call']>[1] = {}) {
  const res = await app.call(path, init);
  if (res.status >= 300) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status}`);
  return res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>);
}

async function appFor(
  modules: readonly AnyModule[],
  options: AccessAppOptions = {},
): Promise<RecordedApp> {
  const recording = recorder();
  const { faults, ports, ...rest } = options;
  const app = await createTestApp({
    modules,
    dynamo: (clients) => {
      faults?.(clients);
      return recording.install(clients);
    },
    ports: recording.timers(ports),
    ...rest,
  });
  return { app, during: (work) => recording.during(app, work) };
}

/** A timer set on `queue`, as the recorder notes it. */
const timerCall = (queue: Pick<QueueDefinition, 'id'>) => `CreateSchedule queue:${queue.id}`;

/**
 * What `module`'s function `name` sent, restricted to the tables it may name and the queues it may
 * set timers on.
 */
function expectWithin(
  calls: Set<string>,
  accesses: readonly TableAccess[],
  function_: string,
  timerQueues: readonly QueueDefinition[] = [],
) {
  expect(calls.size, `${function_} sent nothing: the scenario did not run`).toBeGreaterThan(0);
  const allowed = new Set([...granted(accesses), ...timerQueues.map(timerCall)]);
  expect(
    [...calls].filter((call) => !allowed.has(call)),
    `${function_}: calls its declaration does not grant`,
  ).toEqual([]);
}

/** The harness of one scenario of `module`: `within` notes each function it checked. */
function harness(module: AnyModule, scenario: AccessScenario, checked: Set<string>): AccessHarness {
  return {
    appFor,
    ok,
    runTask: (app, name, input) => {
      const task = module.tasks?.find((t) => t.name === name);
      if (!task) throw new Error(`${module.name} has no task ${name}`);
      return task.run(app.servicesOf(module), input);
    },
    within: (calls, fn, options = {}) => {
      if (!scenario.functions.includes(fn)) {
        throw new Error(`"${scenario.title}" checks ${fn}, which is not among its functions`);
      }
      checked.add(fn);
      const platform = options.platform ? PLATFORM_ACCESS : [];
      expectWithin(
        calls,
        [...grantsOf(module, fn), ...platform],
        `${module.name} ${fn}`,
        timerQueuesSetBy(module, fn),
      );
    },
    expect,
  };
}

describe('the module list', () => {
  it('has an exercise for every module: each function driven or excused, its load, soak and bench', async () => {
    expect(await exerciseProblems(modules)).toEqual([]);
    // The checks take their work from the list, each module once, whatever it names its parts.
    expect(exercisesOf(modules).map(({ module }) => module)).toEqual([...modules]);
    expect(new MixedLoad(samplePlan).creates.length).toBeGreaterThan(0);
    expect(soakRoutes(modules, sampleRun).length).toBeGreaterThan(1);
  });

  it('names a module added to the list without an exercise, in each check', async () => {
    const scratch = defineModule({
      name: 'scratch-widgets',
      tables: [],
      services: () => ({}),
      tasks: [{ name: 'sweep', description: 'A task no check knows.', run: async () => 0 }],
    });
    const list = [...modules, scratch];

    expect(await exerciseProblems(list)).toEqual([
      expect.stringContaining('module "scratch-widgets" has no exercise'),
    ]);
    expect(() => new MixedLoad(samplePlan, list)).toThrow(/"scratch-widgets"/);
    expect(() => soakRoutes(list, sampleRun)).toThrow(/"scratch-widgets"/);
    // What the access test and the bench walk.
    expect(() => exercisesOf(list)).toThrow(/"scratch-widgets"/);
  });

  it('names a function of a module that no access scenario drives', async () => {
    const grown = defineModule({
      ...eventsModule,
      tasks: [
        ...(eventsModule.tasks ?? []),
        { name: 'scratch-sweep', description: 'A task no scenario drives.', run: async () => 0 },
      ],
    });

    expect(await exerciseProblems([grown])).toEqual([
      expect.stringContaining(
        'events: its function "scratch-sweep" is driven by no access scenario',
      ),
    ]);
  });
});

describe('timers', () => {
  const work: QueueDefinition = {
    id: 'scratch-work',
    maxReceiveCount: 3,
    consumerTimeoutSeconds: 10,
    batchSize: 10,
  };
  /** A module whose task sets a timer on the queue it consumes. */
  const settingOn = (queue: QueueDefinition) =>
    defineModule({
      name: 'scratch-timers',
      tables: [],
      services: (context) => ({
        arm: () =>
          timersOf(context.ports.timers, queue).set('n', new Date(Date.now() + 3_600_000), 'b'),
      }),
      tasks: [
        {
          name: 'arm',
          description: 'Sets a timer on its queue.',
          queue,
          run: (services) => services.arm(),
        },
      ],
    });

  it('records each timer a function sets, and holds it to the queues the stack lets it set timers on', async () => {
    for (const [queue, granted] of [
      [{ ...work, timerTarget: true }, true],
      [work, false],
    ] as const) {
      const module = settingOn(queue);
      const timers = new LocalTimers(new LocalQueues());
      const { app, during } = await appFor([module], { ports: { timers } });
      const calls = await during(() => exerciseTask(app, module, 'arm'));
      timers.stop();

      expect(calls).toEqual(new Set(['CreateSchedule queue:scratch-work']));
      const check = () =>
        expectWithin(calls, [], 'scratch-timers arm', timerQueuesSetBy(module, 'arm'));
      if (granted) check();
      else expect(check, queue.id).toThrow(/does not grant/);
      // No routes: the API function builds none of its services, and is granted no timers.
      expect(timerQueuesSetBy(module, 'api')).toEqual([]);
    }
  });
});

/** Runs a task of `module` as its Lambda would. */
function exerciseTask(app: TestApp, module: AnyModule, name: string): Promise<unknown> {
  const task = module.tasks?.find((t) => t.name === name);
  if (!task) throw new Error(`${module.name} has no task ${name}`);
  return task.run(app.servicesOf(module), {});
}

const exercises = new Map<AnyModule, Exercise>();
for (const module of modules) {
  try {
    exercises.set(module, exerciseOf(module));
  } catch {
    // Named by the first test above.
  }
}

for (const [module, exercise] of exercises) {
  const scenarios = exercise.access.scenarios();
  if (scenarios.length === 0) continue;
  describe(module.name, () => {
    for (const scenario of scenarios) {
      it(scenario.title, async () => {
        const checked = new Set<string>();
        await scenario.run(harness(module, scenario, checked));
        expect([...checked].sort(), 'the functions it checked').toEqual(
          [...new Set(scenario.functions)].sort(),
        );
      });
    }
  });
}
