import type { ModuleAccess } from '../../../infra/access.js';
import type { ModuleInfra } from '../../../infra/module-infra.js';
import { slaErrorsKeys } from './sla-errors.dynamo.js';
import { slaErrorsTable } from './sla-errors.module.js';

/**
 * sla-errors on AWS: its table, read and written by the API Lambda (records put once — a
 * transaction of two puts with an Idempotency-Key —, read by id, listed newest first overall or
 * per file through its two indexes). `POST /sla-errors` is declared bearer-only, so the stack
 * puts the auth module's Cognito authorizer on it.
 */
export const access: ModuleAccess = {
  api: [
    {
      table: slaErrorsTable,
      actions: ['GetItem', 'PutItem'],
      indexes: [slaErrorsKeys.byTimeIndex, slaErrorsKeys.byFileIndex],
    },
  ],
};

export const infra: ModuleInfra = () => {};
