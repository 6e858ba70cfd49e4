import { DISABLED_BECAUSE, type Endpoint } from './queries';

/** Enabled, or disabled and why (by its owner, a 410, days of failures). */
export function EndpointState({ endpoint }: { readonly endpoint: Endpoint }) {
  if (endpoint.enabled) return <span className="badge badge-succeeded">enabled</span>;
  const reason = endpoint.disabledReason ? DISABLED_BECAUSE[endpoint.disabledReason] : undefined;
  return (
    <>
      <span className="badge badge-failed">disabled</span>
      {reason ? <span className="small"> {reason}</span> : null}
    </>
  );
}
