import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { handle } from 'hono/aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  enrollmentsModule,
  enrollmentsTable,
} from '../../src/modules/enrollments/enrollments.module.js';
import { eventsTable } from '../../src/modules/events/events.module.js';
import { modules } from '../../src/modules/index.js';
import { webhooksTable } from '../../src/modules/webhooks/webhooks.module.js';
import { ConfigError } from '../../src/platform/config.js';
import { createDynamoClients } from '../../src/platform/dynamo/client.js';
import { ensureTables } from '../../src/platform/dynamo/provision.js';
import { idempotencyTable, tableEnvVar } from '../../src/platform/dynamo/tables.js';
import type { AnyModule } from '../../src/platform/module.js';
import { outboxTable } from '../../src/platform/outbox/outbox.js';
import { createApi } from '../../src/runtime/container.js';
import { lambdaContainer } from '../../src/runtime/lambda/bootstrap.js';
import { newCpf } from '../enrollments/fixtures.js';
import { restEvent } from '../support/rest-event.js';
import { type SecretsManagerStandIn, secretsManagerStandIn } from '../support/secrets-manager.js';
import { timerEnvironment } from '../support/timers.js';

/*
 * The master secret on AWS is a Secrets Manager secret. A Lambda function fetches it when a
 * call first needs a key derived from it, not as it starts: building the container (what every
 * entry does at init) asks Secrets Manager nothing, a function that derives no key never asks,
 * and one that does asks once — again only after a fetch that failed. Secrets Manager here is a
 * stand-in on a local port that counts what it is asked, and can refuse.
 */

const MASTER_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:lambda-secrets';

/** Secrets Manager: counts GetSecretValue calls (refused ones included), refuses when told to. */
let secretsManager: SecretsManagerStandIn;

const context = {
  awsRequestId: 'lambda-secrets-1',
  getRemainingTimeInMillis: () => 29_000,
} as unknown as Context;

const saved = { ...process.env };

beforeAll(async () => {
  secretsManager = await secretsManagerStandIn({
    [MASTER_SECRET_ARN]: Buffer.alloc(32, 4).toString('base64url'),
  });

  const endpoint = inject('dynamodbEndpoint');
  const prefix = `secrets${randomBytes(4).toString('hex')}`;
  const tables = [eventsTable, enrollmentsTable, webhooksTable, outboxTable, idempotencyTable];
  const { client } = createDynamoClients({ region: 'us-east-1', endpoint });
  await ensureTables(
    client,
    tables.map((definition) => ({ definition, name: `${prefix}-${definition.id}` })),
  );
  client.destroy();

  // As the stack gives a function its environment: the master secret's ARN, never its value.
  for (const name of ['APP_SECRET', 'API_KEYS', 'TABLE_PREFIX']) delete process.env[name];
  Object.assign(process.env, {
    APP_SECRET_ARN: MASTER_SECRET_ARN,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
    AWS_ACCESS_KEY_ID: 'ASIATEST',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SESSION_TOKEN: 'test',
    AWS_REGION: 'us-east-1',
    DYNAMODB_ENDPOINT: endpoint,
    API_KEY_SOURCE: 'api-gateway',
    LOG_LEVEL: 'silent',
    ...timerEnvironment(modules),
    ...Object.fromEntries(
      tables.map((definition) => [tableEnvVar(definition), `${prefix}-${definition.id}`]),
    ),
  });
});

afterAll(async () => {
  process.env = saved;
  await secretsManager.close();
});

/** A cold API function: its container and app built as the entry builds them at init. */
async function coldApi() {
  const container = await lambdaContainer();
  const handler = handle(createApi(container, { csvVariant: 'redirect' })) as unknown as (
    event: APIGatewayProxyEvent,
    context: Context,
  ) => Promise<APIGatewayProxyResult>;
  return async (
    method: string,
    path: string,
    options: { body?: unknown; query?: Record<string, string> } = {},
  ): Promise<{
    status: number;
    body: Record<string, unknown>;
    headers: Record<string, string>;
  }> => {
    const result = await handler(
      restEvent(method, path, {
        apiKeyId: 'key-1',
        ...(options.query ? { query: options.query } : {}),
        ...(options.body === undefined
          ? {}
          : {
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(options.body),
            }),
      }),
      context,
    );
    const headers = Object.fromEntries(
      Object.entries(result.multiValueHeaders ?? {}).map(([k, v]) => [
        k.toLowerCase(),
        String(v[0]),
      ]),
    );
    return {
      status: result.statusCode,
      body: result.body ? (JSON.parse(result.body) as Record<string, unknown>) : {},
      headers,
    };
  };
}

const run = randomBytes(3).toString('hex');
let made = 0;
const eventBody = () => ({
  eventId: `e-${run}-${++made}`,
  title: 'T',
  description: 'D',
  date: '2027-03-01',
  location: 'L',
  capacity: 5,
  organizer: 'O',
  status: 'active',
});

/** Secrets Manager calls made by `act`. */
async function callsDuring(act: () => Promise<unknown>): Promise<number> {
  const before = secretsManager.calls;
  await act();
  return secretsManager.calls - before;
}

describe('the master secret in a Lambda function', () => {
  it('is not fetched to build the API, nor by requests that derive no key', async () => {
    const calls = await callsDuring(async () => {
      const api = await coldApi();
      expect((await api('GET', '/health')).status).toBe(200);
      const event = eventBody();
      expect((await api('POST', '/events', { body: event })).status).toBe(201);
      expect((await api('GET', `/events/${event.eventId}`)).status).toBe(200);
      expect(
        (await api('POST', '/users', { body: { userId: `u-${run}`, name: 'Ana' } })).status,
      ).toBe(201);
    });

    expect(calls).toBe(0);
  });

  it('is not fetched by a task function whose work derives no key', async () => {
    const calls = await callsDuring(async () => {
      const container = await lambdaContainer();
      for (const module of modules as readonly AnyModule[]) container.servicesOf(module);
      const reconcile = enrollmentsModule.tasks?.find((task) => task.name === 'reconcile');
      await reconcile?.run(container.servicesOf(enrollmentsModule), {});
    });

    expect(calls).toBe(0);
  });

  it.each([
    [
      'a list that pages (its cursor is signed)',
      async (api: Awaited<ReturnType<typeof coldApi>>) => {
        for (let i = 0; i < 2; i++) await api('POST', '/events', { body: eventBody() });
        const first = await api('GET', '/events', { query: { limit: '1' } });
        expect(first.status).toBe(200);
        const cursor = /[?&]cursor=([^&>]+)/.exec(first.headers.link ?? '')?.[1];
        expect(cursor).toBeDefined();
        const next = await api('GET', '/events', {
          query: { limit: '1', cursor: decodeURIComponent(cursor ?? '') },
        });
        return next.status;
      },
      200,
    ],
    [
      'an enrollment (its CPF guard is keyed)',
      async (api: Awaited<ReturnType<typeof coldApi>>) => {
        await api('POST', '/age-groups', { body: { min_age: 0, max_age: 120 } });
        return (
          await api('POST', '/enrollments', { body: { name: 'Maria', age: 30, cpf: newCpf() } })
        ).status;
      },
      202,
    ],
    [
      'a calendar feed link (its token is signed)',
      async (api: Awaited<ReturnType<typeof coldApi>>) =>
        (await api('POST', '/calendar/feed-link')).status,
      200,
    ],
    [
      'a webhook endpoint (its signing secret is sealed)',
      async (api: Awaited<ReturnType<typeof coldApi>>) =>
        (
          await api('POST', '/webhooks', {
            body: { url: 'http://127.0.0.1:9/hook', eventTypes: ['*'] },
          })
        ).status,
      201,
    ],
    [
      'a registration (an offer it may lead to carries a signed token)',
      async (api: Awaited<ReturnType<typeof coldApi>>) => {
        const event = eventBody();
        await api('POST', '/events', { body: event });
        return (
          await api('POST', `/events/${event.eventId}/registrations`, {
            body: { userId: `u-${run}` },
          })
        ).status;
      },
      201,
    ],
  ])('is fetched once, by the first request that needs a key: %s', async (_, request, status) => {
    const api = await coldApi();
    await api('POST', '/users', { body: { userId: `u-${run}`, name: 'Ana' } });

    const calls = await callsDuring(async () => {
      expect(await request(api)).toBe(status);
      // And not again: the keys stay with the function.
      expect(await request(api)).toBe(status);
    });

    expect(calls).toBe(1);
  });

  it('is fetched again after a fetch that failed: that request is a 503, the next one succeeds', async () => {
    const api = await coldApi();
    secretsManager.refuse = 1;

    const calls = await callsDuring(async () => {
      const failed = await api('POST', '/calendar/feed-link');
      expect(failed.status).toBe(503);
      expect(failed.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(failed.headers['retry-after']).toBeDefined();
      expect((await api('POST', '/calendar/feed-link')).status).toBe(200);
    });

    expect(calls).toBe(2);
  });

  it('is configured, or the function fails as it starts, naming the variables', async () => {
    delete process.env.APP_SECRET_ARN;
    try {
      await expect(lambdaContainer()).rejects.toThrow(ConfigError);
      await expect(lambdaContainer()).rejects.toThrow(
        'Invalid configuration: APP_SECRET_ARN or APP_SECRET is required',
      );
    } finally {
      process.env.APP_SECRET_ARN = MASTER_SECRET_ARN;
    }
  });
});
