import type { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { TableDefinition } from '../src/platform/dynamo/tables.js';
import type { AnyModule } from '../src/platform/module.js';
import type { QueueDefinition } from '../src/platform/queue/queue.js';
import type { ModuleAccess } from './access.js';
import type { Alarms } from './constructs/alarms.js';
import type { RosterRestApi } from './constructs/rest-api.js';

/**
 * What a module's CDK construct (`src/modules/<m>/<m>.infra.ts`) is given. The stack has already
 * built the module's tables (from its definitions) and one task Lambda per task (with its
 * schedule), and granted each function the DynamoDB access the module declares (`access`); the
 * construct adds what only the module knows: its other permissions, state machines, alarms.
 */
export interface ModuleInfraContext {
  readonly stack: Stack;
  readonly stage: string;
  readonly projectRoot: string;
  readonly module: AnyModule;
  /** Whether the stage keeps its data when the stack goes (prod): retain what holds data. */
  readonly retainData: boolean;
  /** A table built from one of the module's definitions. */
  table(definition: TableDefinition): dynamodb.TableV2;
  /**
   * The queue (and its DLQ) built for one of the module's queue triggers. The stack already
   * wired its consumer (event source, DLQ send for poison messages, DLQ-depth alarm); the
   * construct grants sending to whoever sends.
   */
  queue(definition: QueueDefinition): { queue: sqs.IQueue; deadLetterQueue: sqs.IQueue };
  /**
   * Grants a function the construct adds itself what the module's `access` declares under `name`
   * (the API's and the tasks' are granted by the stack).
   */
  grantAccess(grantee: iam.IGrantable, name: string): void;
  /** The API Lambda (every module's routes run in it). */
  readonly apiFunction: lambda.Function;
  readonly restApi: RosterRestApi;
  /** The Lambda of each of the module's tasks, by task name. */
  readonly taskFunctions: ReadonlyMap<string, lambda.Function>;
  /** Environment for a function of this module (its tables and queues, secret, log level). */
  readonly environment: Readonly<Record<string, string>>;
  readonly alarms: Alarms;
}

/** A module's CDK construct: `export const infra: ModuleInfra = (scope, context) => { … }`. */
export type ModuleInfra = (scope: Construct, context: ModuleInfraContext) => void;

/** What `<m>.infra.ts` exports: its construct and the DynamoDB access of each of its functions. */
export interface LoadedModuleInfra {
  readonly construct: ModuleInfra;
  readonly access: ModuleAccess;
}

/**
 * Each listed module's construct and access declaration, found by convention at
 * `src/modules/<name>/<name>.infra.ts` (exports `infra` and `access`), so adding a module stays
 * one line in src/modules/index.ts. Kept out of the runtime's imports: no Lambda bundle ever
 * contains aws-cdk-lib.
 */
export async function loadModuleInfra(
  modules: readonly AnyModule[],
): Promise<ReadonlyMap<AnyModule, LoadedModuleInfra>> {
  const found = new Map<AnyModule, LoadedModuleInfra>();
  for (const module of modules) {
    const path = `../src/modules/${module.name}/${module.name}.infra.js`;
    let loaded: { infra?: unknown; access?: unknown };
    try {
      loaded = (await import(path)) as { infra?: unknown; access?: unknown };
    } catch (error) {
      throw new Error(`module "${module.name}" has no CDK construct at ${path}`, { cause: error });
    }
    if (typeof loaded.infra !== 'function') {
      throw new Error(`${path} must export \`infra\`, a ModuleInfra function`);
    }
    if (typeof loaded.access !== 'object' || loaded.access === null) {
      throw new Error(
        `${path} must export \`access\`: what each of its functions does on its tables`,
      );
    }
    found.set(module, {
      construct: loaded.infra as ModuleInfra,
      access: loaded.access as ModuleAccess,
    });
  }
  return found;
}
