import { constants } from 'node:fs';
import { access, chmod, mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../../platform/config.js';
import { type DynamoDbLocal, LocalStartError, startDynamoDbLocal } from './dynamodb-local.js';

/**
 * The local runtime's first step, kept apart from the app so that `npm start` can begin it before
 * loading the app's code: the JVM's start-up and Node's module loading then overlap.
 * The data directory, made owner-only, then DynamoDB Local on its files — or nothing when
 * DYNAMODB_ENDPOINT names a database that is already running.
 */
export async function startLocalDatabase(config: Config): Promise<DynamoDbLocal | undefined> {
  const dataDir = resolve(config.dataDir);
  await prepareDataDir(dataDir);
  if (config.dynamodbEndpoint) return undefined;
  return startDynamoDbLocal({
    dbPath: resolve(dataDir, 'dynamodb'),
    startTimeoutMs: config.dynamodbLocalStartTimeoutMs,
  });
}

/**
 * The data directory holds the API key, the master secret, password hashes and every table:
 * owner-only (0700), also when an earlier release created it with the default mode.
 */
async function prepareDataDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await access(dir, constants.W_OK);
  } catch {
    throw new LocalStartError(
      `Data directory ${dir} is not writable: set DATA_DIR to a directory you can write.`,
    );
  }
  await chmod(dir, 0o700).catch((error: Error) => {
    throw new LocalStartError(
      `Data directory ${dir} could not be made owner-only (${error.message}): set DATA_DIR to a directory you own.`,
    );
  });
}
