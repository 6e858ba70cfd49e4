import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { idempotencyKey, unwrap } from '../../api/client';
import { useApi } from '../../auth/session';
import { Field } from '../../components/Field';
import { numberOf, textOf, useFormProblem } from '../../components/forms';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { StatusMessage } from '../../components/Status';
import { toProblem } from '../../lib/problem';
import { EnrollmentStatus } from './EnrollmentStatus';
import { enrollmentPath, keys, useEnrollment, useSubmittedIds } from './queries';

/**
 * Submit an enrollment and watch it leave PENDING without reloading; look one up by id. The
 * API has no list of enrollments: the list here is what this tab submitted.
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
      <LookupForm />
    </Page>
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
