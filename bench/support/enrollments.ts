import { randomInt } from 'node:crypto';
import type { Server } from 'node:http';
import { ScanCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createAdaptorServer } from '@hono/node-server';
import { enrollmentsKeys } from '../../src/modules/enrollments/enrollments.dynamo.js';
import {
  enrollmentsModule,
  enrollmentsTable,
} from '../../src/modules/enrollments/enrollments.module.js';
import {
  bucketOf,
  cpfGuardKey,
  maskCpf,
  withCheckDigits,
} from '../../src/modules/enrollments/enrollments.rules.js';
import { x } from '../../src/platform/dynamo/expressions.js';
import { createLogger } from '../../src/platform/logger.js';
import { deriveSecrets } from '../../src/platform/secrets.js';
import { createApi, createContainer } from '../../src/runtime/container.js';
import { LocalQueues } from '../../src/runtime/local/queue.js';
import { localTasks } from '../../src/runtime/local/tasks.js';
import { directLoad, httpLoad, percentiles, summarize } from './measure.js';
import type { Row } from './report.js';
import { type BenchSection, type BenchTools, rpsOf } from './sections.js';
import { BENCH_API_KEY, type BenchStack, close, listen, urlOf } from './stack.js';

export interface EnrollmentBurstOptions {
  /** Enrollments accepted in the burst. */
  readonly count: number;
  /** Concurrent HTTP connections (and workers of the raw-write baseline). */
  readonly connections: number;
  /** No phase (burst, waiting for the queue, baseline) may take longer. */
  readonly watchdogSeconds: number;
}

export interface EnrollmentBurst {
  /** `enroll accept app` (202s), `enroll processed` (accept → final), `enroll raw txn`. */
  readonly rows: Row[];
  readonly problems: string[];
}

/** The enrollments module's section: the burst, its ratios to the raw write, what it must end with. */
export async function enrollmentsSection(
  stack: BenchStack,
  tools: BenchTools,
): Promise<BenchSection> {
  const { settings, log } = tools;
  const enrolled = await tools.timed('enrollment burst', () => {
    log(`enrollment burst: ${settings.enrollments} accepted at once, then until all are final`);
    return enrollmentBurst(stack, {
      count: settings.enrollments,
      connections: settings.concurrency,
      watchdogSeconds: settings.burstWatchdogSeconds,
    });
  });
  const rps = rpsOf(enrolled.rows);
  return {
    rows: enrolled.rows,
    ratios: {
      'enrollments accepted/s: app / raw TransactWriteItems':
        rps('enroll accept app') / rps('enroll raw txn'),
      'enrollments processed/s (accept → final): app / raw TransactWriteItems':
        rps('enroll processed') / rps('enroll raw txn'),
    },
    expected: {
      'enroll accept app': { 202: settings.enrollments },
      // The warm-up's 50 are in the table too.
      'enroll processed': { PROCESSED: settings.enrollments + 50 },
    },
    problems: enrolled.problems,
  };
}

/**
 * 5. N enrollments accepted as fast as the app allows, then the time until the queue processor
 * has made every one final; against the same transaction (CPF guard + PENDING record + the age
 * slot's condition) sent straight to DynamoDB. The app runs as `npm start` runs it: the local
 * queue, and the local task runner consuming it, on the stack's DynamoDB Local.
 */
export async function enrollmentBurst(
  stack: BenchStack,
  options: EnrollmentBurstOptions,
): Promise<EnrollmentBurst> {
  const secrets = deriveSecrets(Buffer.alloc(32, 1));
  const queues = new LocalQueues();
  const container = createContainer({
    config: stack.config,
    modules: [enrollmentsModule],
    secrets,
    logger: createLogger('silent'),
    ports: { queues },
  });
  const tasks = localTasks(container, container.logger, { queues });
  const server = await listen(createAdaptorServer({ fetch: createApi(container).fetch }) as Server);
  const url = urlOf(server);
  const table = container.table(enrollmentsTable).name;
  const { enrollments } = container.servicesOf(enrollmentsModule);
  const problems: string[] = [];

  try {
    await tasks.start();
    const group = await enrollments.createAgeGroup({ minAge: 0, maxAge: 150 });
    const cpfs = uniqueCpfs(options.count * 2 + 50);
    let used = 0;
    const take = (count: number) => {
      used += count;
      return cpfs.slice(used - count, used);
    };
    const next = () => take(1)[0] as string;
    const burst = (count: number) =>
      httpLoad({
        url: `${url}/enrollments`,
        method: 'POST',
        headers: { 'x-api-key': BENCH_API_KEY, 'content-type': 'application/json' },
        connections: options.connections,
        amount: count,
        bodies: take(count).map((cpf) =>
          JSON.stringify({ name: 'Bench Person', age: randomInt(0, 151), cpf }),
        ),
        watchdogSeconds: options.watchdogSeconds,
        timeoutSeconds: options.watchdogSeconds,
      });
    const allFinal = async (deadline: number) => {
      for (;;) {
        const pending = await Promise.all(
          enrollmentsKeys.pendingShards.map((shard) =>
            container.table(enrollmentsTable).count({
              index: enrollmentsKeys.pendingIndex,
              key: x`GSI2PK = ${shard}`,
            }),
          ),
        );
        if (pending.every((n) => n === 0)) return true;
        if (performance.now() > deadline) return false;
        await new Promise((done) => setTimeout(done, 20));
      }
    };

    // Warm-up: JIT, sockets, the consumer's loops.
    await burst(50);
    await allFinal(performance.now() + options.watchdogSeconds * 1000);

    const started = performance.now();
    const accepted = await burst(options.count);
    const finished = await allFinal(started + options.watchdogSeconds * 1000);
    const finalMs = performance.now() - started;
    if (!finished) problems.push(`enrollments: not all final within ${options.watchdogSeconds} s`);

    // The committed truth, and each record's time from accepted to final (a bench may scan).
    const records = await scanEnrollments(stack, table);
    const byStatus: Record<string, number> = {};
    for (const r of records) byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
    const expected = options.count + 50;
    if (byStatus.PROCESSED !== expected || records.length !== expected) {
      problems.push(`enrollments: ${JSON.stringify(byStatus)} of ${expected} expected PROCESSED`);
    }
    const latencies = records.map((r) => Date.parse(r.processedAt) - Date.parse(r.createdAt));
    const processed = {
      completed: options.count,
      durationMs: finalMs,
      requestsPerSecond: options.count / (finalMs / 1000),
      ...percentiles(latencies),
      outcomes: { ...byStatus },
      errors: 0,
    };

    // The same transaction the app commits, sent directly, at the same concurrency.
    const cpfKey = secrets.key('cpf');
    const raw = await directLoad({
      concurrency: options.connections,
      durationMs: options.watchdogSeconds * 1000,
      hardStopMs: options.watchdogSeconds * 1000,
      maxCalls: options.count,
      call: async (i) => {
        const cpf = next();
        const age = i % 151;
        const id = `raw-${i}-${cpf}`;
        const now = new Date().toISOString();
        const ageAttribute = enrollmentsKeys.ageAttribute(age);
        await stack.direct.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: table,
                  Item: { ...enrollmentsKeys.cpf(cpfGuardKey(cpfKey, cpf)), enrollmentId: id },
                  ConditionExpression: 'attribute_not_exists(PK)',
                },
              },
              {
                Put: {
                  TableName: table,
                  Item: {
                    ...enrollmentsKeys.enrollment(id),
                    type: 'raw',
                    id,
                    name: 'Bench Person',
                    age,
                    cpfMasked: maskCpf(cpf),
                    status: 'PENDING',
                    ageGroupId: group.id,
                    createdAt: now,
                  },
                  ConditionExpression: 'attribute_not_exists(PK)',
                },
              },
              {
                ConditionCheck: {
                  TableName: table,
                  Key: enrollmentsKeys.ages(bucketOf(age)),
                  ConditionExpression: '#a = :g',
                  ExpressionAttributeNames: { '#a': ageAttribute },
                  ExpressionAttributeValues: { ':g': group.id },
                },
              },
            ],
          }),
        );
        return undefined;
      },
    });

    return {
      rows: [
        { name: 'enroll accept app', m: summarize([accepted]) },
        { name: 'enroll processed', m: processed },
        { name: 'enroll raw txn', m: summarize([raw]) },
      ],
      problems,
    };
  } finally {
    await tasks.stop();
    await close(server);
    container.dynamo.client.destroy();
  }
}

/** `count` distinct valid CPFs. */
function uniqueCpfs(count: number): string[] {
  const cpfs = new Set<string>();
  while (cpfs.size < count) {
    const base = String(randomInt(0, 1_000_000_000)).padStart(9, '0');
    if (!/^(\d)\1{8}$/.test(base)) cpfs.add(withCheckDigits(base));
  }
  return [...cpfs];
}

async function scanEnrollments(stack: BenchStack, table: string) {
  const items: { status: string; createdAt: string; processedAt: string }[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await stack.direct.doc.send(
      new ScanCommand({
        TableName: table,
        FilterExpression: '#t = :t',
        ExpressionAttributeNames: { '#t': 'type' },
        ExpressionAttributeValues: { ':t': 'enrollment' },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((page.Items ?? []) as typeof items));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
