import type { ModuleInfra } from '../../../infra/module-infra.js';
import { slaErrorsTable } from './sla-errors.module.js';

/**
 * sla-errors on AWS: its table (built by the stack from `slaErrorsTable`), read and written by
 * the API Lambda. `POST /sla-errors` is declared bearer-only, so the stack puts the auth module's
 * Cognito authorizer on it.
 */
export const infra: ModuleInfra = (_scope, { table, apiFunction }) => {
  table(slaErrorsTable).grantReadWriteData(apiFunction);
};
