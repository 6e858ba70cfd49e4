import { type FieldProblem, type Problem, toProblem } from '../lib/problem';

/**
 * An API problem as the user reads it: its title and detail, and the validation errors that no
 * form field shows. `role="alert"`: screen readers announce it when it appears. Either the
 * problem itself (a form that placed some of its errors by field), or the error a query or
 * mutation failed with (nothing shows while there is none).
 */
export function ProblemMessage(props: {
  readonly problem?: Problem | undefined;
  readonly error?: unknown;
  readonly unplaced?: readonly FieldProblem[];
}) {
  const problem = props.problem ?? (props.error ? toProblem(props.error) : undefined);
  if (!problem) return null;
  const unplaced = props.unplaced ?? problem.errors ?? [];
  return (
    <div className="problem" role="alert">
      <p className="problem-title">{problem.title}</p>
      {problem.detail ? <p>{problem.detail}</p> : null}
      {unplaced.length > 0 ? (
        <ul>
          {unplaced.map((error) => (
            <li key={`${error.path}:${error.message}`}>
              {error.path.replace(/^body\.?/, '') || 'request'}: {error.message}
            </li>
          ))}
        </ul>
      ) : null}
      {problem.requestId ? <p className="muted small">Request id: {problem.requestId}</p> : null}
    </div>
  );
}
