import { randomUUID } from 'node:crypto';
import { authModule } from '../../../src/modules/auth/auth.module.js';
import { slaErrorsModule } from '../../../src/modules/sla-errors/sla-errors.module.js';
import { addUser, createLocalIssuer, signIn } from '../../auth/fixtures.js';
import { Recent } from './recent.js';
import type { AfterRestart, Exercise, LoadPlan, SoakRun } from './types.js';

/** A record every field of which is valid, under `fileName`. */
export const slaErrorBody = (fileName: string, source = 'crash-test') => ({
  fileName,
  slaDeadline: '2026-11-21T10:00:00Z',
  errorCode: 'SLA_BREACH',
  message: 'File arrived late',
  severity: 'medium',
  source,
});

const found = async (runtime: AfterRestart, path: string) =>
  (await runtime.get(path)).status === 200;

export const exercise: Exercise = {
  access: {
    scenarios: () => [
      {
        title: 'the routes stay within the API’s grants (and the platform’s)',
        functions: ['api'],
        run: async ({ appFor, ok, within }) => {
          const issuer = await createLocalIssuer();
          try {
            const { app, during } = await appFor([authModule, slaErrorsModule], {
              ports: { tokens: issuer.tokens },
            });
            await addUser(app, 'reporter');
            const bearer = (await signIn(app, 'reporter')).access_token;
            const calls = await during(async () => {
              const created = await ok(app, '/sla-errors', {
                method: 'POST',
                key: null,
                headers: { authorization: `Bearer ${bearer}`, 'idempotency-key': randomUUID() },
                json: {
                  fileName: 'access.csv',
                  slaDeadline: '2030-01-01T10:00:00Z',
                  errorCode: 'SLA_BREACH',
                  message: 'least privilege',
                  severity: 'low',
                  source: 'test',
                },
              });
              await ok(app, '/sla-errors');
              await ok(app, '/sla-errors?fileName=access.csv');
              await ok(app, '/sla-errors/stats');
              await ok(app, `/sla-errors/${String(created?.id)}`);
            });
            // The sign-in's own calls (the local issuer's users) are not part of these routes.
            within(new Set([...calls].filter((call) => !call.endsWith(' auth'))), 'api', {
              platform: true,
            });
          } finally {
            await issuer.cleanup();
          }
        },
      },
    ],
  },
  load: {
    operations: ({ runId }: LoadPlan) => [
      {
        op: 'file-sla-error',
        weight: 70,
        build: (n, idempotencyKey) => {
          const fileName = `${runId}-f-${n}.csv`;
          return {
            method: 'POST',
            path: '/sla-errors',
            body: slaErrorBody(fileName),
            idempotencyKey,
            bearer: true,
            subject: { fileName },
          };
        },
        create: { retried: 200 },
        verify: async ({ subject, response }, runtime) => {
          const id = (response as { id?: string } | undefined)?.id;
          const missing = (await found(runtime, `/sla-errors/${id}`)) ? [] : [`sla error ${id}`];
          // …once: the retry of a request that had committed got the same record back.
          const { body } = await runtime.get(`/sla-errors?fileName=${subject.fileName}`);
          if ((body as unknown[]).length !== 1) missing.push(`one record for ${subject.fileName}`);
          return missing;
        },
      },
    ],
  },
  soak: {
    routes: ({ runId }: SoakRun) => {
      const slaErrors = new Recent<string>();
      return [
        {
          kind: 'file-sla-error',
          weight: 4,
          build: (i) => ({
            route: 'POST /sla-errors',
            method: 'POST',
            path: '/sla-errors',
            idempotent: true,
            bearer: true,
            body: slaErrorBody(`${runId}-${i % 50}.csv`, 'soak'),
            onSuccess: (body) => slaErrors.add((body as { id: string }).id),
          }),
        },
        {
          kind: 'list-sla-errors',
          weight: 3,
          build: () => ({ route: 'GET /sla-errors', method: 'GET', path: '/sla-errors?limit=20' }),
        },
        {
          kind: 'get-sla-error',
          weight: 2,
          build: () => {
            const id = slaErrors.pick();
            if (!id) return undefined;
            return { route: 'GET /sla-errors/{id}', method: 'GET', path: `/sla-errors/${id}` };
          },
        },
      ];
    },
  },
  bench: {
    none:
      'no section yet: a filing is one conditional write behind a bearer token, with no ' +
      'contention to measure; the soak reports its routes’ latency',
  },
};
