import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { idempotencyKey, unwrap } from '../../api/client';
import { itemsOf } from '../../api/pages';
import { useApi } from '../../auth/session';
import { DownloadCsv } from '../../components/DownloadCsv';
import { Field } from '../../components/Field';
import { numberOf, textOf, useFormProblem } from '../../components/forms';
import { LoadMore } from '../../components/LoadMore';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading, StatusMessage } from '../../components/Status';
import { toProblem } from '../../lib/problem';
import { EnrollmentStatus } from './EnrollmentStatus';
import {
  ENROLLMENT_STATUSES,
  type EnrollmentStatusValue,
  enrollmentPath,
  keys,
  useAgeGroups,
  useEnrollment,
  useEnrollmentList,
  useSubmittedIds,
} from './queries';

const isStatus = (value: string | null): value is EnrollmentStatusValue =>
  ENROLLMENT_STATUSES.includes(value as EnrollmentStatusValue);

/**
 * Submit an enrollment and watch it leave PENDING without reloading; every enrollment, newest
 * first, filtered by status and age group (in the URL: `?status=PENDING&ageGroupId=…`); look one
 * up by id.
 */
export function EnrollmentsPage() {
  const [news, setNews] = useState<string>();
  const submitted = useSubmittedIds();
  return (
    <Page title="Enrollments">
      <EnrollForm onDone={setNews} />
      <StatusMessage>{news}</StatusMessage>
      <section aria-labelledby="submitted-heading">
        <h2 id="submitted-heading">Submitted in this tab</h2>
        {submitted.data.length === 0 ? (
          <p className="muted">
            Nothing yet. Each submission appears here and its status updates by itself.
          </p>
        ) : (
          <table className="cards">
            <caption className="visually-hidden">
              Enrollments submitted in this tab, newest first
            </caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Age</th>
                <th scope="col">CPF</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {submitted.data.map((id) => (
                <SubmittedRow key={id} id={id} />
              ))}
            </tbody>
          </table>
        )}
      </section>
      <EnrollmentList />
      <LookupForm />
    </Page>
  );
}

function EnrollmentList() {
  const [search, setSearch] = useSearchParams();
  const requested = search.get('status');
  const status = isStatus(requested) ? requested : undefined;
  const ageGroupId = search.get('ageGroupId') || undefined;
  const api = useApi();
  const list = useEnrollmentList({ status, ageGroupId });
  const enrollments = itemsOf(list.data?.pages);
  const groups = itemsOf(useAgeGroups().data?.pages);
  const groupName = (id: string) => {
    const group = groups.find((g) => g.id === id);
    return group ? `${group.min_age}–${group.max_age}` : id;
  };
  const filterBy = (name: 'status' | 'ageGroupId', value: string) => {
    const next = new URLSearchParams(search);
    if (value) next.set(name, value);
    else next.delete(name);
    setSearch(next);
  };
  const narrowed = [status, ageGroupId ? `in age group ${groupName(ageGroupId)}` : undefined]
    .filter(Boolean)
    .join(' ');

  return (
    <section aria-labelledby="all-heading">
      <h2 id="all-heading">All enrollments</h2>
      <div className="toolbar">
        <label htmlFor="status-filter">Status</label>
        <select
          id="status-filter"
          value={status ?? ''}
          onChange={(change) => filterBy('status', change.target.value)}
        >
          <option value="">All statuses</option>
          {ENROLLMENT_STATUSES.map((value) => (
            <option key={value} value={value}>
              {value}
            </option>
          ))}
        </select>
      </div>
      {/* A toolbar per filter: side by side they would not fit a phone's width. */}
      <div className="toolbar">
        <label htmlFor="group-filter">Age group</label>
        <select
          id="group-filter"
          value={ageGroupId ?? ''}
          onChange={(change) => filterBy('ageGroupId', change.target.value)}
        >
          <option value="">All age groups</option>
          {ageGroupId && !groups.some((g) => g.id === ageGroupId) ? (
            <option value={ageGroupId}>{ageGroupId}</option>
          ) : null}
          {groups.map((group) => (
            <option key={group.id} value={group.id}>
              {group.min_age}–{group.max_age}
            </option>
          ))}
        </select>
      </div>
      {list.isPending ? <Loading what="enrollments" /> : null}
      <ProblemMessage error={list.error} />
      {list.isSuccess && enrollments.length === 0 ? (
        <p className="muted">No enrollments{narrowed ? ` ${narrowed}` : ''}.</p>
      ) : null}
      {enrollments.length > 0 ? (
        <div className="toolbar">
          <DownloadCsv
            label="Download these enrollments (CSV)"
            fallbackName="enrollments.csv"
            call={() =>
              api.GET('/enrollments.csv', {
                params: { query: { status, ageGroupId } },
                parseAs: 'blob',
              })
            }
          />
        </div>
      ) : null}
      {enrollments.length > 0 ? (
        <table className="cards">
          <caption className="visually-hidden">
            Enrollments{narrowed ? ` ${narrowed}` : ''}, newest first
          </caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Age</th>
              <th scope="col">CPF</th>
              <th scope="col">Age group</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {enrollments.map((enrollment) => (
              <tr key={enrollment.id}>
                <td data-label="Name">
                  <Link to={enrollmentPath(enrollment.id)}>{enrollment.name}</Link>
                </td>
                <td data-label="Age">{enrollment.age}</td>
                <td data-label="CPF" className="mono">
                  {enrollment.cpf}
                </td>
                <td data-label="Age group">{groupName(enrollment.age_group_id)}</td>
                <td data-label="Status">
                  <EnrollmentStatus enrollment={enrollment} />
                </td>
                <td data-label="Created">{enrollment.created_at}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <LoadMore query={list} label="Load more enrollments" />
    </section>
  );
}

function EnrollForm(props: { readonly onDone: (news: string) => void }) {
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const enroll = useMutation({
    // No variables: the CPF is read from the form inside the call and kept in no state (React's
    // or the mutation's); once accepted the form is cleared, and only the API's masked CPF shows.
    mutationFn: async () => {
      const data = new FormData(form.current ?? undefined);
      return (
        await unwrap(
          api.POST('/enrollments', {
            body: {
              name: textOf(data, 'name'),
              age: numberOf(data, 'age') as number,
              cpf: textOf(data, 'cpf'),
            },
            params: { header: { 'idempotency-key': idempotencyKey() } },
          }),
        )
      ).data;
    },
    onSuccess: (accepted) => {
      form.current?.reset();
      queryClient.setQueryData<string[]>(keys.submitted, (ids = []) => [
        accepted.enrollment_id,
        ...ids.filter((id) => id !== accepted.enrollment_id),
      ]);
      void queryClient.invalidateQueries({ queryKey: keys.lists });
      props.onDone(
        `Enrollment ${accepted.enrollment_id} accepted (${accepted.status}). Its status below changes when it has been processed.`,
      );
    },
  });
  const { problem, byField, unplaced } = useFormProblem(form, enroll.error, ['name', 'age', 'cpf']);

  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    enroll.mutate();
  };

  return (
    <section aria-labelledby="enroll-heading">
      <h2 id="enroll-heading">New enrollment</h2>
      <form ref={form} onSubmit={submit} noValidate className="form" autoComplete="off">
        <ProblemMessage problem={problem} unplaced={unplaced} />
        <Field name="name" label="Name" required errors={byField.name}>
          {(control) => <input {...control} type="text" autoComplete="off" />}
        </Field>
        <div className="field-row">
          <Field
            name="age"
            label="Age"
            hint="An age group must cover it."
            required
            errors={byField.age}
          >
            {(control) => <input {...control} type="number" inputMode="numeric" />}
          </Field>
          <Field
            name="cpf"
            label="CPF"
            hint="11 digits, with or without dots and hyphen. Shown masked once sent."
            required
            errors={byField.cpf}
          >
            {(control) => (
              <input
                {...control}
                type="text"
                inputMode="numeric"
                autoComplete="off"
                spellCheck={false}
              />
            )}
          </Field>
        </div>
        <div className="form-actions">
          <button type="submit" disabled={enroll.isPending}>
            {enroll.isPending ? 'Submitting…' : 'Submit enrollment'}
          </button>
        </div>
      </form>
    </section>
  );
}

function SubmittedRow(props: { readonly id: string }) {
  const enrollment = useEnrollment(props.id);
  const data = enrollment.data;
  if (!data) {
    return (
      <tr>
        <td data-label="Name" colSpan={4}>
          <Link to={enrollmentPath(props.id)}>{props.id}</Link>{' '}
          {enrollment.isError ? (
            <span className="field-error">{toProblem(enrollment.error).title}</span>
          ) : (
            <span className="muted">loading…</span>
          )}
        </td>
      </tr>
    );
  }
  return (
    <tr>
      <td data-label="Name">
        <Link to={enrollmentPath(data.id)}>{data.name}</Link>
      </td>
      <td data-label="Age">{data.age}</td>
      <td data-label="CPF" className="mono">
        {data.cpf}
      </td>
      <td data-label="Status">
        <EnrollmentStatus enrollment={data} />
      </td>
    </tr>
  );
}

function LookupForm() {
  const navigate = useNavigate();
  const [missing, setMissing] = useState(false);
  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    const id = textOf(new FormData(submitted.currentTarget), 'enrollmentId').trim();
    setMissing(id === '');
    if (id) void navigate(enrollmentPath(id));
  };
  return (
    <section aria-labelledby="lookup-heading">
      <h2 id="lookup-heading">Find an enrollment</h2>
      <form onSubmit={submit} noValidate className="form inline-form">
        <Field
          name="enrollmentId"
          label="Enrollment id"
          errors={missing ? ['Type the id the submission was given.'] : undefined}
        >
          {(control) => <input {...control} type="text" autoComplete="off" spellCheck={false} />}
        </Field>
        <button type="submit" className="secondary">
          Show
        </button>
      </form>
    </section>
  );
}
