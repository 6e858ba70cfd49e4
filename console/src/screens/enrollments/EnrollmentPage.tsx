import { Link, useParams } from 'react-router';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading } from '../../components/Status';
import { formatTime } from '../../lib/time';
import { EnrollmentStatus } from './EnrollmentStatus';
import { useEnrollment } from './queries';

/** One enrollment: its status (updated by itself while PENDING), the masked CPF, its group. */
export function EnrollmentPage() {
  const { enrollmentId = '' } = useParams();
  const enrollment = useEnrollment(enrollmentId);
  const data = enrollment.data;
  return (
    <Page title={data ? `Enrollment of ${data.name}` : 'Enrollment'}>
      {enrollment.isPending ? <Loading what="the enrollment" /> : null}
      <ProblemMessage error={enrollment.error} />
      {data ? (
        <dl className="details">
          <div>
            <dt>Status</dt>
            <dd data-testid="enrollment-status">
              <EnrollmentStatus enrollment={data} />
            </dd>
          </div>
          <div>
            <dt>Name</dt>
            <dd>{data.name}</dd>
          </div>
          <div>
            <dt>Age</dt>
            <dd>{data.age}</dd>
          </div>
          <div>
            <dt>CPF</dt>
            <dd className="mono">{data.cpf}</dd>
          </div>
          <div>
            <dt>Age group</dt>
            <dd className="mono small">{data.age_group_id}</dd>
          </div>
          <div>
            <dt>Submitted</dt>
            <dd>{formatTime(data.created_at)}</dd>
          </div>
          <div>
            <dt>Processed</dt>
            <dd>{formatTime(data.processed_at)}</dd>
          </div>
          <div>
            <dt>Enrollment id</dt>
            <dd className="mono small">{data.id}</dd>
          </div>
        </dl>
      ) : null}
      <p>
        <Link to="/enrollments">Back to enrollments</Link>
      </p>
    </Page>
  );
}
