import type { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { TableDefinition } from '../src/platform/dynamo/tables.js';
import type { AnyModule } from '../src/platform/module.js';
import type { QueueDefinition } from '../src/platform/queue/queue.js';
import type { Alarms } from './constructs/alarms.js';
import type { RosterRestApi } from './constructs/rest-api.js';

/**
 * What a module's CDK construct (`src/modules/<m>/<m>.infra.ts`) is given. The stack has already
 * built the module's tables (from its definitions) and one task Lambda per task (with its
 * schedule); the construct adds what only the module knows: its permissions, queues, state
 * machines, alarms.
 */
export interface ModuleInfraContext {
  readonly stack: Stack;
  readonly stage: string;
  readonly projectRoot: string;
  readonly module: AnyModule;
  /** A table built from one of the module's definitions. */
  table(definition: TableDefinition): dynamodb.TableV2;
  /**
   * The queue (and its DLQ) built for one of the module's queue triggers. The stack already
   * wired its consumer (event source, DLQ send for poison messages, DLQ-depth alarm); the
   * construct grants sending to whoever sends.
   */
  queue(definition: QueueDefinition): { queue: sqs.IQueue; deadLetterQueue: sqs.IQueue };
  /** The API Lambda (every module's routes run in it). */
  readonly apiFunction: NodejsFunction;
  readonly restApi: RosterRestApi;
  /** The Lambda of each of the module's tasks, by task name. */
  readonly taskFunctions: ReadonlyMap<string, NodejsFunction>;
  /** Environment every Roster function gets (table names, secret, log level). */
  readonly environment: Readonly<Record<string, string>>;
  readonly alarms: Alarms;
}

/** A module's CDK construct: `export const infra: ModuleInfra = (scope, context) => { … }`. */
export type ModuleInfra = (scope: Construct, context: ModuleInfraContext) => void;

/**
 * Each listed module's construct, found by convention at `src/modules/<name>/<name>.infra.ts`
 * (export `infra`), so adding a module stays one line in src/modules/index.ts. Kept out of the
 * runtime's imports: no Lambda bundle ever contains aws-cdk-lib.
 */
export async function loadModuleInfra(
  modules: readonly AnyModule[],
): Promise<ReadonlyMap<AnyModule, ModuleInfra>> {
  const found = new Map<AnyModule, ModuleInfra>();
  for (const module of modules) {
    const path = `../src/modules/${module.name}/${module.name}.infra.js`;
    let loaded: { infra?: unknown };
    try {
      loaded = (await import(path)) as { infra?: unknown };
    } catch (error) {
      throw new Error(`module "${module.name}" has no CDK construct at ${path}`, { cause: error });
    }
    if (typeof loaded.infra !== 'function') {
      throw new Error(`${path} must export \`infra\`, a ModuleInfra function`);
    }
    found.set(module, loaded.infra as ModuleInfra);
  }
  return found;
}
