import { resolve } from 'node:path';
import { authModule, PASSWORD_POLICY_TEXT } from '../../modules/auth/auth.module.js';
import { ConfigError, loadConfig } from '../../platform/config.js';
import { createDynamoClients } from '../../platform/dynamo/client.js';
import { ensureTables, namedTables } from '../../platform/dynamo/provision.js';
import { AppError } from '../../platform/errors.js';
import { createLogger } from '../../platform/logger.js';
import { deriveSecrets } from '../../platform/secrets.js';
import { createContainer } from '../container.js';
import { type DynamoDbLocal, LocalStartError, runningDynamoDbLocal } from './dynamodb-local.js';
import { startLocalDatabase } from './local-database.js';
import { resolveLocalSecret } from './secret.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const USAGE = 'usage: npm run users -- add <name> | list | remove <name> | passwd <name>';

class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * `npm run users -- add <name> | list | remove <name> | passwd <name>`: the local issuer's users,
 * in the auth module's table on the same database `npm start` uses. A password is typed at a
 * prompt that does not echo, or read from standard input when that is not a terminal; never
 * taken from the command line (it would stay in the shell history and the process list).
 *
 * DynamoDB Local must not have the same files open twice: when `npm start` (or another CLI run)
 * is serving the data directory, its DynamoDB Local is used; otherwise one is started here for
 * the duration of the command.
 */
async function main(argv: readonly string[]): Promise<void> {
  const [command, name, ...extra] = argv;
  if ((command === 'add' || command === 'passwd') && extra.length > 0) {
    throw new UsageError(
      'a password is never taken from the command line: type it when asked, or pipe it on standard input',
    );
  }
  const needsName = command === 'add' || command === 'remove' || command === 'passwd';
  if (!command || (needsName ? !name || extra.length > 0 : command !== 'list' || name)) {
    throw new UsageError(USAGE);
  }

  const config = loadConfig(process.env, [authModule]);
  if (config.cognito) {
    throw new UsageError(
      'COGNITO_USER_POOL_ID is set: users live in the Cognito user pool (aws cognito-idp admin-create-user)',
    );
  }
  const dataDir = resolve(config.dataDir);
  let database: DynamoDbLocal | undefined;
  let endpoint =
    config.dynamodbEndpoint ?? (await runningDynamoDbLocal(resolve(dataDir, 'dynamodb')));
  if (!endpoint) {
    // As `npm start` does it: the data directory owner-only, DynamoDB Local on loopback, the
    // configured start deadline.
    database = await startLocalDatabase(config);
    if (!database) throw new Error('no database was started');
    endpoint = database.endpoint;
  }
  const dynamo = createDynamoClients({ region: config.region, endpoint });
  try {
    await ensureTables(dynamo.client, namedTables(authModule.tables, config.tables));
    const container = createContainer({
      config: { ...config, dynamodbEndpoint: endpoint },
      modules: [authModule],
      secrets: deriveSecrets(await resolveLocalSecret(config.appSecret, dataDir)),
      logger: createLogger('silent'),
      dynamo,
    });
    const { auth } = await container.load(authModule);
    const username = name ?? '';

    switch (command) {
      case 'add': {
        const password = await readPassword(`Password for ${username}`);
        const user = await auth.addUser(username, password);
        say(`added ${user.username} (sub ${user.sub})`);
        break;
      }
      case 'passwd': {
        const password = await readPassword(`New password for ${username}`);
        await auth.changePassword(username, password);
        say(`changed the password of ${username.toLowerCase()}`);
        break;
      }
      case 'remove':
        await auth.removeUser(username);
        say(
          `removed ${username.toLowerCase()} (tokens already issued stay valid until they expire)`,
        );
        break;
      case 'list': {
        let cursor: string | undefined;
        let count = 0;
        do {
          const page = await auth.listUsers({ limit: 200, cursor });
          for (const user of page.items) say(`${user.username}\t${user.sub}\t${user.createdAt}`);
          count += page.items.length;
          cursor = page.nextCursor;
        } while (cursor);
        if (count === 0) process.stderr.write('no users yet: npm run users -- add <name>\n');
        break;
      }
    }
  } finally {
    dynamo.client.destroy();
    await database?.stop();
  }
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/** A password from the terminal (no echo, asked twice) or the first line of standard input. */
async function readPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    const [line = ''] = Buffer.concat(chunks).toString('utf8').split(/\r?\n/);
    if (line.length === 0) throw new UsageError('no password on standard input');
    return line;
  }
  process.stderr.write(`Policy: ${PASSWORD_POLICY_TEXT}.\n`);
  const first = await promptHidden(`${prompt}: `);
  const second = await promptHidden('Again: ');
  if (first !== second) throw new UsageError('the two passwords differ');
  return first;
}

/** Reads one line from the terminal in raw mode, echoing nothing. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((done, fail) => {
    let typed = '';
    const finish = (outcome: () => void) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      outcome();
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return finish(() => done(typed));
        if (ch === '\u0003') return finish(() => fail(new UsageError('cancelled')));
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`users: ${error.message}\n`);
      process.exit(2);
    }
    if (
      error instanceof AppError ||
      error instanceof LocalStartError ||
      error instanceof ConfigError
    ) {
      process.stderr.write(`users: ${error.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`users: failed: ${(error as Error)?.message ?? String(error)}\n`);
    process.exit(1);
  },
);
