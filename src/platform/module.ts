import type { $ZodType } from 'zod/v4/core';
import type { DynamoTable } from './dynamo/table.js';
import type { TableDefinition } from './dynamo/tables.js';
import type { EventBus, EventRule } from './event-bus/bus.js';
import type { TokenVerifier } from './http/auth.js';
import type { createRouter } from './http/openapi.js';
import type { RouteTable } from './http/route-table.js';
import type { Logger } from './logger.js';
import type { MetricsPort, ModuleMetrics } from './metrics/metrics.js';
import type { DomainEventPayloads, DomainEventType, Outbox } from './outbox/outbox.js';
import type { QueueDefinition, QueuePort } from './queue/queue.js';
import type { SecretSource } from './secrets.js';
import type { TimerPort } from './timers/timers.js';
import type { TokenPort } from './tokens/tokens.js';
import type { WorkflowDefinition, Workflows } from './workflow/workflow.js';

/**
 * The module contract. A module is a folder under src/modules/ whose `<m>.module.ts` exports one
 * `ModuleDefinition`; the runtime lists the modules once (src/modules/index.ts) and the
 * container, the local runtime, the Lambda entries, the test setup, the bench and the CDK stack
 * all read that list. The platform only ever sees modules through this interface.
 */
export interface ModuleDefinition<Services = unknown, Settings = unknown> {
  /** kebab-case, the folder name: log field, task names (`<module>/<task>`), settings prefix. */
  readonly name: string;
  /** Its DynamoDB tables (ids unique across modules). */
  readonly tables: readonly TableDefinition[];
  /**
   * Its configuration, as a zod object of camelCase keys. Each key is read from the environment
   * variable `<MODULE>_<KEY>` (`retryAfterSeconds` of `widgets` →
   * `WIDGETS_RETRY_AFTER_SECONDS`) by platform/config, which reports every problem of
   * every module at start. Give every key a default that works locally.
   */
  readonly settings?: $ZodType<Settings>;
  /**
   * Builds the module's services (adapters → services), inline. Must have no side effects beyond
   * constructing objects: it runs for the HTTP app, for a queue consumer, for a task Lambda and
   * offline in the CDK app, which reads the routes it describes. A module gives either this (with
   * `routes` as a function) or `load`.
   */
  readonly services?: (context: ModuleContext<Settings>) => Services;
  /**
   * Its code — services, routers, the schemas of its events — behind an `import()`
   * (`() => import('./<m>.code.js')`), so that a bundle splits it off: the API Lambda loads it on
   * the first request to one of its routes (docs/decisions/lazy-modules.md); everywhere else it is
   * loaded as the process starts (src/modules/index.ts, lambdaContainer). With `load`, `routes` is
   * the module's route table.
   */
  readonly load?: () => Promise<ModuleCode<Services, Settings>>;
  /**
   * Its routes. Inline: one Hono sub-app per resource (made with platform/http's `createRouter`),
   * mounted at `/`; routes with `security: []` are public. With `load`: the route table — what the
   * app must know of them before their code is loaded (each route's method and path, in the order
   * the routers serve them, and which are public or CSV downloads); a test checks it against the
   * routers (test/platform/route-table.test.ts).
   */
  readonly routes?:
    | RouteTable
    | ((services: Services) => readonly ReturnType<typeof createRouter>[]);
  /** OpenAPI tags its routes use, with descriptions for the docs page. */
  readonly tags?: readonly { readonly name: string; readonly description: string }[];
  /** Background work: run at local start-up, on a schedule, … (see TaskDefinition). */
  readonly tasks?: readonly TaskDefinition<Services, Settings>[];
  /** A verifier of bearer tokens for the platform's auth middleware (the auth module's port). */
  readonly tokenVerifier?: (services: Services) => TokenVerifier;
  /**
   * Its workflows (ASL files whose Task states run its tasks): Step Functions state machines on
   * AWS (built by its construct), run in-process locally; started through `ports.workflows`.
   */
  readonly workflows?: readonly WorkflowDefinition[];
  /** Event bus rules: events matching a pattern start one of its workflows (see EventRule). */
  readonly eventRules?: readonly EventRule[];
  /**
   * Its catalogue of domain events (`<resource>.<change>`): the types it commits through
   * `context.outbox`, which webhook endpoints subscribe to and the OpenAPI document lists under
   * `webhooks`.
   */
  readonly domainEvents?: readonly DomainEventType[];
  /**
   * The schema of each of its events' `data`, for the OpenAPI document. Export it from the routes
   * file: only the HTTP app reads it, and functions without HTTP then bundle no schemas.
   */
  readonly domainEventSchemas?: () => DomainEventPayloads;
}

/** What a module's `load` resolves to: the code its definition defers. */
export interface ModuleCode<Services = unknown, Settings = unknown> {
  readonly services: (context: ModuleContext<Settings>) => Services;
  /** One Hono sub-app per resource, serving exactly the routes of the module's route table. */
  readonly routers?: (services: Services) => readonly ReturnType<typeof createRouter>[];
  /** The schema of each of its events' `data`, for the OpenAPI document. */
  readonly domainEventSchemas?: () => DomainEventPayloads;
}

/**
 * What a module's `services` factory gets: its own settings and tables, and the shared pieces.
 * Reaching another module goes through `servicesOf(otherModule)`, never its adapters.
 */
export interface ModuleContext<Settings = unknown> {
  readonly settings: Settings;
  /** The table helper for one of this module's table definitions. */
  readonly table: (definition: TableDefinition) => DynamoTable;
  /** A logger whose lines carry `module: <name>`. */
  readonly logger: Logger;
  readonly clock: () => Date;
  /** Time-ordered unique ids (UUIDv7). */
  readonly newId: () => string;
  /**
   * Keys derived from the deployment's master secret, one per purpose: `(await secrets()).key(…)`
   * where a key is used, never while services are built — on AWS the first call fetches the
   * master secret, so a function that derives no key never waits for it.
   */
  readonly secrets: SecretSource;
  /** Another module's services (built once per container). */
  readonly servicesOf: <S>(module: ModuleWith<S>) => S;
  /** The runtime's adapters for what crosses a process boundary in production. */
  readonly ports: Ports;
  /** Business counts under this module's name (the metrics port's `service` dimension). */
  readonly metrics: ModuleMetrics;
  /**
   * Domain events: built with `outbox.event`, committed in the change's own transaction with
   * `outbox.put`, announced after the commit with `outbox.announce` (platform/outbox).
   */
  readonly outbox: Outbox;
}

/**
 * Adapters for what crosses a process boundary in production (a queue, a workflow engine, an
 * event bus, a token issuer), provided by the runtime: AWS services on Lambda, in-process
 * stand-ins with the same semantics locally and in tests. A module that needs a new kind adds
 * its port (an interface under src/platform/<port>/, with the AWS adapter beside it) as a member
 * here, and the local adapter under src/runtime/local/; each runtime fills the member.
 */
export interface Ports {
  /** Queues (SQS on AWS, in-process locally); absent where nothing may be sent (offline). */
  readonly queues?: QueuePort;
  /** Workflow engine: Step Functions, or aws-local-stepfunctions on the same ASL. */
  readonly workflows?: Workflows;
  /** Event bus: EventBridge, or an in-process bus matching the same patterns. */
  readonly events?: EventBus;
  /** Bearer tokens: Cognito on AWS, the local RS256 issuer locally (absent: no tokens at all). */
  readonly tokens?: TokenPort;
  /** Business counts: CloudWatch (EMF) on AWS, in memory locally (absent: not counted). */
  readonly metrics?: MetricsPort;
  /**
   * Messages delivered to a queue at a set time: EventBridge Scheduler on AWS, timers in the
   * process locally (absent where nothing may be scheduled: offline).
   */
  readonly timers?: TimerPort;
}

/**
 * A unit of background work: a named function of the module's services. Its triggers say when
 * it runs; each runtime wires them with its own means — the local runtime with timers and
 * start-up hooks, AWS with EventBridge Scheduler and a task Lambda (src/runtime/lambda/task.ts,
 * `ROSTER_TASK=<module>/<task>`), from the same definition.
 */
export interface TaskDefinition<Services = unknown, Settings = unknown> {
  /** kebab-case, unique in the module. */
  readonly name: string;
  readonly description: string;
  /**
   * Run once by the local runtime when it starts, after the tables exist, with the input
   * `{ trigger: 'startup' }` (`isStartupRun`).
   */
  readonly startup?: boolean;
  /**
   * How often to run, as an EventBridge rate expression (`rate(5 minutes)`; the local runtime
   * also accepts seconds, for tests), or undefined for never. Read from settings so an operator
   * can change or turn it off.
   */
  readonly schedule?: (settings: Settings) => string | undefined;
  /**
   * Consume this queue: `run` is called once per message, with a `QueueMessage` as input. A throw
   * fails that message alone (it is received again after the visibility timeout, and moves to the
   * dead-letter queue after `maxReceiveCount` receives); a PoisonMessageError dead-letters it at
   * once. On AWS: an SQS event source with ReportBatchItemFailures on the task Lambda; locally: a
   * poller on the in-process queue.
   */
  readonly queue?: QueueDefinition;
  readonly run: (services: Services, input: unknown) => Promise<unknown>;
}

/** A module whose services are `S`, whatever its settings (a list holds modules of any types). */
// biome-ignore lint/suspicious/noExplicitAny: settings differ per module and are opaque here.
export type ModuleWith<S> = ModuleDefinition<S, any>;
/** Any module: services and settings are opaque to whoever holds the list. */
// biome-ignore lint/suspicious/noExplicitAny: the list holds modules of different service types.
export type AnyModule = ModuleWith<any>;

/** Declares a module with its types inferred (`defineModule({ name: 'widgets', … })`). */
export function defineModule<Services, Settings = undefined>(
  definition: ModuleDefinition<Services, Settings>,
): ModuleDefinition<Services, Settings> {
  const load = definition.load;
  if (!load) return definition;
  // Calling `load` itself (src/modules/index.ts does) makes the code available to `moduleCode`.
  const loadOnce = () => loadCode(loadOnce, load);
  return { ...definition, load: loadOnce };
}

const loadedCode = new WeakMap<object, ModuleCode>();
const loadingCode = new WeakMap<object, Promise<ModuleCode>>();

/**
 * A module's code, loaded once per process (by its `load`, or inline); a failed load is tried
 * again by the next call.
 */
export function loadModule<S>(module: ModuleWith<S>): Promise<ModuleCode<S>> {
  const inline = moduleCode(module);
  if (inline) return Promise.resolve(inline);
  const load = module.load as () => Promise<ModuleCode<S>>;
  return loadCode(load, load);
}

function loadCode<C>(key: object, load: () => Promise<C>): Promise<C> {
  let loading = loadingCode.get(key) as Promise<C> | undefined;
  if (!loading) {
    loading = load().then(
      (code) => {
        loadedCode.set(key, code as ModuleCode);
        return code;
      },
      (error: unknown) => {
        loadingCode.delete(key);
        throw error;
      },
    );
    loadingCode.set(key, loading as Promise<ModuleCode>);
  }
  return loading;
}

/** Every listed module's code, loaded (what a process that serves them all does as it starts). */
export async function loadModules(modules: readonly AnyModule[]): Promise<void> {
  await Promise.all(modules.map((module) => loadModule(module)));
}

/** A module's code if it is at hand: inline, or loaded already; undefined while it is not. */
export function moduleCode<S>(module: ModuleWith<S>): ModuleCode<S> | undefined {
  if (module.services) {
    const { services, routes, domainEventSchemas } = module;
    return {
      services,
      ...(typeof routes === 'function' ? { routers: routes } : {}),
      ...(domainEventSchemas ? { domainEventSchemas } : {}),
    };
  }
  if (!module.load) throw new Error(`module "${module.name}" has neither services nor load`);
  return loadedCode.get(module.load) as ModuleCode<S> | undefined;
}

/** Whether a task's input says the local runtime is starting (nothing of it runs yet). */
export const isStartupRun = (input: unknown): boolean =>
  (input as { trigger?: unknown } | undefined)?.trigger === 'startup';
