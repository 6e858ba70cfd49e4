import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  enrollmentQueue,
  enrollmentsModule,
} from '../../src/modules/enrollments/enrollments.module.js';
import { withCheckDigits } from '../../src/modules/enrollments/enrollments.rules.js';
import type {
  AgeGroupResponse as AgeGroup,
  EnrollmentResponse as Enrollment,
} from '../../src/modules/enrollments/enrollments.schemas.js';
import type { DynamoClients } from '../../src/platform/dynamo/client.js';
import { createLogger } from '../../src/platform/logger.js';
import { MemoryMetrics } from '../../src/platform/metrics/metrics.js';
import type { Queue, QueuePort } from '../../src/platform/queue/queue.js';
import { type ConsumerOptions, LocalQueues } from '../../src/runtime/local/queue.js';
import { type LocalTasks, localTasks } from '../../src/runtime/local/tasks.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { bodyOf } from '../support/fixture-app.js';

export { allPages, bodyOf, expectProblem } from '../support/fixture-app.js';
export type { AgeGroup, Enrollment };
export { enrollmentQueue };

/** Every CPF a test in this process handed to the app, in digits only. */
const cpfsUsed = new Set<string>();

/** A valid CPF no other test uses (random base, correct check digits), digits only. */
export function newCpf(): string {
  for (;;) {
    const base = String(randomInt(0, 1_000_000_000)).padStart(9, '0');
    if (/^(\d)\1{8}$/.test(base)) continue;
    const cpf = withCheckDigits(base);
    if (cpfsUsed.has(cpf)) continue;
    cpfsUsed.add(cpf);
    return cpf;
  }
}

/** The same CPF with its last check digit changed, so it always fails the check (digits only). */
export const withWrongCheckDigit = (cpf: string): string =>
  `${cpf.slice(0, 10)}${(Number(cpf[10]) + 1) % 10}`;

/** `12345678909` → `123.456.789-09`. */
export const formatCpf = (digits: string): string =>
  `${digits.slice(0, 3)}.${digits.slice(3, 6)}.${digits.slice(6, 9)}-${digits.slice(9)}`;

/**
 * Remembers a CPF-like value a test sent (e.g. an invalid one) so the log check looks for it too
 * (10 digits or more: shorter runs of digits occur in any log line).
 */
export const sentCpf = (cpf: string): string => {
  const digits = cpf.replace(/\D/g, '');
  if (digits.length >= 10) cpfsUsed.add(digits);
  return cpf;
};

export interface EnrollmentsApp extends TestApp {
  readonly queues: LocalQueues;
  /** What the module counted. */
  readonly metrics: MemoryMetrics;
  readonly tasks: LocalTasks;
  /** Starts the queue consumer, the start-up reconciler and the schedules (once). */
  readonly start: () => Promise<void>;
}

export interface EnrollmentsAppOptions {
  readonly env?: Record<string, string>;
  readonly dynamo?: (clients: DynamoClients) => DynamoClients;
  /** Wraps the queue port the app sends through (fault injection); the consumer reads the real one. */
  readonly wrapQueues?: (queues: QueuePort) => QueuePort;
  /** Start the consumer and tasks at once. @default true */
  readonly start?: boolean;
  readonly consumer?: ConsumerOptions;
}

const running: LocalTasks[] = [];

/**
 * The real app with the enrollments module (and only its tables) on DynamoDB Local, the local
 * queue (visibility timeout 0.3 s, so retries take moments) and the local task runner consuming
 * it — what `npm start` runs, in-process. Logs at debug level, into the captured output.
 */
export async function createEnrollmentsApp(
  options: EnrollmentsAppOptions = {},
): Promise<EnrollmentsApp> {
  const queues = new LocalQueues({
    visibilityTimeoutSeconds: 0.3,
    logger: createLogger('debug', 'roster-test-queue'),
  });
  const metrics = new MemoryMetrics();
  const app = await createTestApp({
    modules: [enrollmentsModule],
    env: { LOG_LEVEL: 'debug', ...options.env },
    ...(options.dynamo ? { dynamo: options.dynamo } : {}),
    ports: { queues: options.wrapQueues ? options.wrapQueues(queues) : queues, metrics },
  });
  const tasks = localTasks(app, app.logger, {
    queues,
    consumer: { waitMs: 50, ...options.consumer },
  });
  running.push(tasks);
  let started: Promise<void> | undefined;
  const start = () => {
    started ??= tasks.start();
    return started;
  };
  if (options.start !== false) await start();
  return { ...app, queues, tasks, start, metrics };
}

/** The enrollments service of an app, for what HTTP does not reach (reconcile, process). */
export const servicesOf = (app: TestApp) => app.servicesOf(enrollmentsModule).enrollments;

/** A queue port whose sends fail the first `times` calls (send and sendBatch alike). */
export function failingSends(times: number): {
  wrap: (queues: QueuePort) => QueuePort;
  failed: () => number;
} {
  let failed = 0;
  const fail = () => {
    if (failed < times) {
      failed++;
      throw new Error('injected: the queue refused the message');
    }
  };
  return {
    failed: () => failed,
    wrap: (queues) => ({
      queue: (definition) => {
        const real = queues.queue(definition);
        const queue: Queue = {
          send: async (body, options) => {
            fail();
            return real.send(body, options);
          },
          sendBatch: async (bodies) => {
            fail();
            return real.sendBatch(bodies);
          },
          deadLetter: (message, reason) => real.deadLetter(message, reason),
        };
        return queue;
      },
    }),
  };
}

export async function createGroup(app: TestApp, minAge: number, maxAge: number) {
  const res = await app.call('/age-groups', {
    method: 'POST',
    json: { min_age: minAge, max_age: maxAge },
  });
  return bodyOf<AgeGroup>(res, 201);
}

export async function enroll(
  app: TestApp,
  body: { name?: string; age: number; cpf?: string },
): Promise<{ enrollment_id: string; status: string }> {
  const res = await app.call('/enrollments', {
    method: 'POST',
    json: { name: 'Maria Silva', cpf: newCpf(), ...body },
  });
  return bodyOf(res, 202);
}

export async function getEnrollment(app: TestApp, id: string): Promise<Enrollment> {
  return bodyOf<Enrollment>(await app.call(`/enrollments/${id}`), 200);
}

/** Polls until the enrollment leaves PENDING; returns it. */
export async function finalEnrollment(
  app: TestApp,
  id: string,
  timeout = 10_000,
): Promise<Enrollment> {
  await expect
    .poll(async () => (await getEnrollment(app, id)).status, { timeout, interval: 50 })
    .not.toBe('PENDING');
  return getEnrollment(app, id);
}

/** Waits until the local queue has nothing left (delivered and deleted, or dead-lettered). */
export async function drained(app: EnrollmentsApp, timeout = 10_000): Promise<void> {
  await expect.poll(() => app.queues.depth(enrollmentQueue), { timeout, interval: 25 }).toBe(0);
}

/**
 * Captures what the process writes to stdout and stderr (where the Powertools Logger writes its
 * JSON lines) for the whole test file, and checks at the end that no CPF any test sent appears in
 * it — neither as digits nor formatted. Call once at the top of a test file.
 */
export function checkLogsHaveNoCpf(): { readonly output: () => string } {
  let captured = '';
  const originals = { out: process.stdout.write, err: process.stderr.write };
  beforeAll(() => {
    const capture = (chunk: unknown, ...rest: unknown[]) => {
      captured += typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString();
      const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      done?.();
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
  });
  afterAll(async () => {
    await Promise.all(running.splice(0).map((tasks) => tasks.stop()));
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
    expect(
      captured.length,
      'the app logged nothing: the check below would prove nothing',
    ).toBeGreaterThan(0);
    expect(cpfsUsed.size).toBeGreaterThan(0);
    for (const cpf of cpfsUsed) {
      expect(captured, 'a CPF reached the logs').not.toContain(cpf);
      if (cpf.length === 11)
        expect(captured, 'a CPF reached the logs').not.toContain(formatCpf(cpf));
    }
  });
  return { output: () => captured };
}
