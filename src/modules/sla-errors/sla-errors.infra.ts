import type { ModuleAccess } from '../../../infra/access.js';
import { Alarms } from '../../../infra/constructs/alarms.js';
import type { ModuleInfra } from '../../../infra/module-infra.js';
import { outboxTable } from '../../platform/outbox/outbox.js';
import { slaErrorsKeys } from './sla-errors.dynamo.js';
import { slaErrorsTable } from './sla-errors.module.js';
import { severityMetric } from './sla-errors.service.js';

/**
 * sla-errors on AWS: its table, read and written by the API Lambda (records put once, in a
 * transaction with their domain event in the platform's outbox — and the request's mark with an
 * Idempotency-Key —, read by id, listed newest first overall or per file through its two
 * indexes, counted per day and severity through the index by time). `POST /sla-errors` is declared bearer-only, so the stack
 * puts the auth module's Cognito authorizer on it.
 */
export const access: ModuleAccess = {
  api: [
    {
      table: slaErrorsTable,
      actions: ['GetItem', 'PutItem'],
      indexes: [slaErrorsKeys.byTimeIndex, slaErrorsKeys.byFileIndex],
    },
    { table: outboxTable, actions: ['PutItem'] },
  ],
};

/** A critical SLA error is news for whoever watches the alarm topic, at once. */
export const infra: ModuleInfra = (_scope, { module, alarms }) => {
  alarms.addSumAlarm(
    'SlaErrorsCritical',
    Alarms.moduleMetric(module.name, severityMetric('critical')),
    1,
    'A critical SLA error was recorded (GET /sla-errors lists it, newest first).',
  );
};
