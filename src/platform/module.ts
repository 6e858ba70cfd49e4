import type { $ZodType } from 'zod/v4/core';
import type { DynamoTable } from './dynamo/table.js';
import type { TableDefinition } from './dynamo/tables.js';
import type { EventBus, EventRule } from './event-bus/bus.js';
import type { TokenVerifier } from './http/auth.js';
import type { createRouter } from './http/openapi.js';
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
   * Builds the module's services (adapters → services). Must have no side effects beyond
   * constructing objects: it runs for the HTTP app, for a queue consumer, for a task Lambda and
   * offline in the CDK app, which reads the routes it describes.
   */
  readonly services: (context: ModuleContext<Settings>) => Services;
  /**
   * One Hono sub-app per resource (made with platform/http's `createRouter`), mounted at `/`.
   * Routes with `security: []` are public.
   */
  readonly routes?: (services: Services) => readonly ReturnType<typeof createRouter>[];
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
  return definition;
}

/** Whether a task's input says the local runtime is starting (nothing of it runs yet). */
export const isStartupRun = (input: unknown): boolean =>
  (input as { trigger?: unknown } | undefined)?.trigger === 'startup';
