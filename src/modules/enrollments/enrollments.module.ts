import * as z from 'zod/mini';
import { integerSetting } from '../../platform/input.js';
import { defineModule, isStartupRun } from '../../platform/module.js';
import { scheduleSetting } from '../../platform/schedule.js';
import { enrollmentEvents } from './enrollments.model.js';
import { enrollmentQueue, enrollmentsTable } from './enrollments.resources.js';
import type { EnrollmentsService } from './enrollments.service.js';

export { enrollmentQueue, enrollmentsTable };

const settings = z.object({
  /** A request still PENDING this long after it was accepted is sent to the queue again. */
  reconcileAfterSeconds: integerSetting(120, { min: 1, max: 86_400 }),
  /** How often the reconciler runs. */
  reconcileSchedule: scheduleSetting('rate(1 minute)'),
  /**
   * How often enrollments stored before the list existed get its index keys (also at local
   * start-up); `off` once a run has found none left.
   */
  listBackfillSchedule: scheduleSetting('rate(1 hour)'),
});

/** Age groups and CPF-checked enrollment requests processed through a queue. */
export const enrollmentsModule = defineModule({
  name: 'enrollments',
  tables: [enrollmentsTable],
  settings,
  // Its code (services, routers, the schemas of its events) loads with `load`: in the API
  // Lambda, on the first request to one of these routes (docs/decisions/lazy-modules.md).
  load: () => import('./enrollments.code.js'),
  routes: [
    'POST /age-groups',
    'GET /age-groups',
    'DELETE /age-groups/{id}',
    // Before `/enrollments/{id}`.
    'GET /enrollments/stats',
    'POST /enrollments',
    'GET /enrollments',
    'GET /enrollments.csv csv',
    'GET /enrollments/{id}',
  ],
  domainEvents: [
    {
      type: enrollmentEvents.accepted,
      description:
        'An enrollment request was accepted: its record is stored PENDING (sequence 1). A request refused at once (bad CPF, no age group, CPF taken) stores nothing and announces nothing.',
    },
    {
      type: enrollmentEvents.processed,
      description: 'The processor enrolled the request: PENDING → PROCESSED (sequence 2, final).',
    },
    {
      type: enrollmentEvents.rejected,
      description:
        'The processor rejected the request, its age group deleted in between: PENDING → REJECTED with a `reason` (sequence 2, final); its CPF may enroll again.',
    },
  ],
  tags: [
    {
      name: 'enrollments',
      description:
        'Age groups; enrollment requests checked against them (CPF, age) and processed through a queue',
    },
  ],
  tasks: [
    {
      name: 'process',
      description:
        'Processes enrollment requests from the queue (PENDING → PROCESSED or REJECTED).',
      queue: enrollmentQueue,
      run: ({ enrollments }, message) =>
        enrollments.process(message as Parameters<EnrollmentsService['process']>[0]),
    },
    {
      name: 'reconcile',
      description: 'Sends enrollment requests left PENDING too long to the queue again.',
      // At local start-up every PENDING record is sent again, however young: the in-process
      // queue lost its messages with the process. Run any other way (on its schedule, here or on
      // AWS), it leaves alone records younger than reconcileAfterSeconds, whose message is
      // probably still on its way.
      startup: true,
      schedule: (s) => s.reconcileSchedule,
      run: ({ enrollments }, input) => enrollments.reconcile({ all: isStartupRun(input) }),
    },
    {
      name: 'backfill-list-keys',
      description:
        'Gives enrollments stored by an earlier release the index keys GET /enrollments reads (idempotent).',
      // Locally a developer's existing data is listed from the first start after the upgrade;
      // on AWS the schedule runs it until an operator turns it off.
      startup: true,
      schedule: (s) => s.listBackfillSchedule,
      run: ({ enrollments }) => enrollments.backfillListKeys(),
    },
  ],
});
