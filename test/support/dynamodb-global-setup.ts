import type { TestProject } from 'vitest/node';
import { type DynamoDbLocal, startDynamoDbLocal } from '../../src/runtime/local/dynamodb-local.js';

/**
 * One in-memory DynamoDB Local for the projects that need it (integration, system); each test
 * file makes its own tables. Vitest runs a project's global setup once per project, each in a
 * module instance of its own, so the database is shared through `globalThis`: the first project
 * starts it, the last one to tear down stops it (teardowns run only once every test is done).
 */

interface Shared {
  users: number;
  readonly database: Promise<DynamoDbLocal>;
}

const SHARED = Symbol.for('roster.test.dynamodb-local');
const registry = globalThis as unknown as Record<symbol, Shared | undefined>;

export default async function setup(project: TestProject) {
  registry[SHARED] ??= { users: 0, database: startDynamoDbLocal() };
  const shared = registry[SHARED];
  shared.users++;
  project.provide('dynamodbEndpoint', (await shared.database).endpoint);
  return async () => {
    shared.users--;
    if (shared.users > 0) return;
    registry[SHARED] = undefined;
    await (await shared.database).stop();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
  }
}
