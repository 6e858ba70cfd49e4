import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { Link } from 'react-router';
import { idempotencyKey, type Schemas, unwrap } from '../../api/client';
import { useApi, useSession } from '../../auth/session';
import { Field } from '../../components/Field';
import { textOf, useFormProblem } from '../../components/forms';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { StatusMessage } from '../../components/Status';
import { localInputToIso, utcOffsetLabel } from '../../lib/time';
import { keys, SEVERITIES, type Severity } from './queries';

const FIELDS = [
  'fileName',
  'slaDeadline',
  'receivedAt',
  'errorCode',
  'message',
  'severity',
  'source',
] as const;

/** File an SLA error: only a signed-in user can (the API takes a bearer token here, not a key). */
export function NewSlaError() {
  const { credential } = useSession();
  return (
    <Page title="File an SLA error">
      {credential?.kind === 'token' ? <SlaErrorForm /> : <NeedsUser />}
      <p>
        <Link to="/sla-errors">Back to SLA errors</Link>
      </p>
    </Page>
  );
}

/** With an API key session: why the form isn't there, and the way to a session that can file. */
function NeedsUser() {
  const { signOut } = useSession();
  return (
    <section className="notice" aria-labelledby="needs-user-heading">
      <h2 id="needs-user-heading">Filing needs a signed-in user</h2>
      <p>
        You are signed in with an API key. The API files an SLA error only for a user signed in with
        a username and password (a bearer token), and records who filed it; an API key alone is
        refused. Listing records works with either.
      </p>
      <p>
        Locally, add a user with <code>npm run users -- add &lt;name&gt;</code>; on AWS, users are
        in the Cognito user pool.
      </p>
      <button
        type="button"
        onClick={() =>
          signOut(
            'Sign in with your username and password to file SLA errors. (Your API key session has ended.)',
            'password',
          )
        }
      >
        Sign in with a username and password
      </button>
    </section>
  );
}

function SlaErrorForm() {
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [filed, setFiled] = useState<{ id: string; fileName: string }>();
  const file = useMutation({
    mutationFn: async (body: Schemas['CreateSlaError']) => ({
      id: (
        await unwrap(
          api.POST('/sla-errors', {
            body,
            params: { header: { 'idempotency-key': idempotencyKey() } },
          }),
        )
      ).data.id,
      fileName: body.fileName,
    }),
    onSuccess: (result) => {
      form.current?.reset();
      setFiled(result);
      void queryClient.invalidateQueries({ queryKey: keys.slaErrors });
    },
  });
  const { problem, byField, unplaced } = useFormProblem(form, file.error, FIELDS);
  const zone = utcOffsetLabel();

  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    const data = new FormData(submitted.currentTarget);
    const receivedAt = localInputToIso(textOf(data, 'receivedAt'));
    setFiled(undefined);
    // As typed: the API's schema is the one that says what is wrong, field by field.
    file.mutate({
      fileName: textOf(data, 'fileName'),
      slaDeadline: localInputToIso(textOf(data, 'slaDeadline')) as string,
      ...(receivedAt ? { receivedAt } : {}),
      errorCode: textOf(data, 'errorCode').trim(),
      message: textOf(data, 'message'),
      severity: textOf(data, 'severity') as Severity,
      source: textOf(data, 'source'),
    });
  };

  return (
    <>
      <StatusMessage>
        {filed ? (
          <>
            Filed as {filed.id}.{' '}
            <Link to={`/sla-errors?${new URLSearchParams({ fileName: filed.fileName })}`}>
              See the records of {filed.fileName}
            </Link>
          </>
        ) : null}
      </StatusMessage>
      <form ref={form} onSubmit={submit} noValidate className="form">
        <ProblemMessage problem={problem} unplaced={unplaced} />
        <Field name="fileName" label="File name" required errors={byField.fileName}>
          {(control) => <input {...control} type="text" spellCheck={false} />}
        </Field>
        <div className="field-row">
          <Field
            name="slaDeadline"
            label="SLA deadline"
            hint={`When the file was due; your time (${zone}).`}
            required
            errors={byField.slaDeadline}
          >
            {(control) => <input {...control} type="datetime-local" />}
          </Field>
          <Field
            name="receivedAt"
            label="Received at"
            hint="When it arrived; empty for now."
            errors={byField.receivedAt}
          >
            {(control) => <input {...control} type="datetime-local" />}
          </Field>
        </div>
        <div className="field-row">
          <Field
            name="errorCode"
            label="Error code"
            hint="Up to 64 of A-Z a-z 0-9 . _ : -"
            required
            errors={byField.errorCode}
          >
            {(control) => <input {...control} type="text" spellCheck={false} />}
          </Field>
          <Field name="severity" label="Severity" required errors={byField.severity}>
            {(control) => (
              <select {...control} defaultValue="">
                <option value="" disabled>
                  Choose…
                </option>
                {SEVERITIES.map((severity) => (
                  <option key={severity} value={severity}>
                    {severity}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <Field name="message" label="Message" required errors={byField.message}>
          {(control) => <textarea {...control} rows={3} />}
        </Field>
        <Field
          name="source"
          label="Source"
          hint="The system that reported it."
          required
          errors={byField.source}
        >
          {(control) => <input {...control} type="text" />}
        </Field>
        <div className="form-actions">
          <button type="submit" disabled={file.isPending}>
            {file.isPending ? 'Filing…' : 'File SLA error'}
          </button>
        </div>
      </form>
    </>
  );
}
