/** RFC 9457 problem details as the API sends them, and what the console shows of them. */
export interface FieldProblem {
  readonly path: string;
  readonly message: string;
}

export interface Problem {
  readonly type?: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly code?: string;
  readonly requestId?: string;
  readonly errors?: readonly FieldProblem[];
}

/** A failed API call: the problem document, or one made up for a failure that has none. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(readonly problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
  }
}

export function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.title === 'string' && typeof candidate.status === 'number';
}

/** The problem of a failed response, whatever its body was (a proxy's HTML page, nothing…). */
export function problemOf(status: number, statusText: string, body: unknown): Problem {
  if (isProblem(body)) {
    const errors = Array.isArray(body.errors)
      ? body.errors.filter(
          (error): error is FieldProblem =>
            typeof error?.path === 'string' && typeof error?.message === 'string',
        )
      : undefined;
    return { ...body, ...(errors ? { errors } : {}) };
  }
  return {
    title: statusText || `HTTP ${status}`,
    status,
    detail: `The API answered ${status} without a problem document.`,
  };
}

export function networkProblem(error: unknown): Problem {
  const reason = error instanceof Error && error.message ? ` (${error.message})` : '';
  return {
    title: 'The API did not answer',
    status: 0,
    detail: `Check that Roster is running and reachable, then try again${reason}.`,
  };
}

/** The problem behind any error a query or mutation threw. */
export function toProblem(error: unknown): Problem {
  if (error instanceof ApiError) return error.problem;
  return networkProblem(error);
}

/**
 * Validation errors by form field: `body.capacity` → `capacity`. Errors whose path names no
 * field of the form (`body`, or a field the form doesn't show) stay with the problem's summary.
 * `prefix` is where the form's fields travel: `body` (the default), `query` (a filter), `path`
 * (an id in the URL), or several when one form drives routes of each kind.
 */
export function fieldErrorsOf(
  problem: Problem | undefined,
  fields: readonly string[],
  prefix: string | readonly string[] = 'body',
): { byField: Record<string, string[]>; unplaced: FieldProblem[] } {
  const prefixes: readonly string[] = typeof prefix === 'string' ? [prefix] : prefix;
  const byField: Record<string, string[]> = {};
  const unplaced: FieldProblem[] = [];
  for (const error of problem?.errors ?? []) {
    const [head = '', field] = error.path.split('.');
    if (prefixes.includes(head) && field !== undefined && fields.includes(field)) {
      byField[field] = [...(byField[field] ?? []), error.message];
    } else {
      unplaced.push(error);
    }
  }
  return { byField, unplaced };
}

/** Problems worth retrying: the API or the network was unavailable, not the request wrong. */
export function isTransient(problem: Problem): boolean {
  return problem.status === 0 || problem.status === 503 || problem.status === 429;
}
