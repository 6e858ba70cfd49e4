import type { Enrollment } from './queries';

/**
 * An enrollment's status as a badge, in a polite live region: when a PENDING enrollment becomes
 * PROCESSED or REJECTED on screen, a screen reader says so.
 */
export function EnrollmentStatus(props: { readonly enrollment: Enrollment }) {
  const { status, reason } = props.enrollment;
  return (
    <span aria-live="polite" className="enrollment-status">
      <span className={`badge badge-${status.toLowerCase()}`}>{status}</span>
      {status === 'PENDING' ? <span className="muted small"> being processed…</span> : null}
      {status === 'REJECTED' && reason ? <span className="small"> {reason}</span> : null}
    </span>
  );
}
