import { useInfiniteQuery } from '@tanstack/react-query';
import type { Schemas } from '../../api/client';
import { pagedQuery } from '../../api/pages';
import { useApi } from '../../auth/session';

export type Severity = Schemas['SlaErrorSeverity'];

export const SEVERITIES: readonly Severity[] = ['low', 'medium', 'high', 'critical'];

/** The list's filter, as the API takes it (ISO 8601 date-times); kept in the page's URL. */
export interface SlaErrorFilter {
  readonly fileName?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

export const keys = {
  slaErrors: ['sla-errors'] as const,
  list: (filter: SlaErrorFilter) =>
    ['sla-errors', 'list', filter.fileName ?? '', filter.from ?? '', filter.to ?? ''] as const,
};

/** SLA error records, newest first by receivedAt, optionally one file's and in [from, to). */
export function useSlaErrors(filter: SlaErrorFilter) {
  const api = useApi();
  return useInfiniteQuery(
    pagedQuery(keys.list(filter), (cursor, signal) =>
      api.GET('/sla-errors', { params: { query: { ...filter, cursor } }, signal }),
    ),
  );
}
