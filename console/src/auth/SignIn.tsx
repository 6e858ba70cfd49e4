import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { hasOperation, unwrap } from '../api/client';
import { Field } from '../components/Field';
import { textOf } from '../components/forms';
import { ProblemMessage } from '../components/ProblemMessage';
import { toProblem } from '../lib/problem';
import { authHeaders, type Credential } from '../lib/session';
import { useSession } from './session';
import { requestToken } from './token';

type Method = 'api-key' | 'password';

/**
 * Sign-in with an API key (checked against the API before it is kept), or with a username and
 * password when the API has `POST /auth/token`. The credential is kept for this tab only.
 */
export function SignIn() {
  const { api, apiUrl, signIn, endedBecause } = useSession();
  const passwordAvailable = hasOperation('POST /auth/token');
  const [method, setMethod] = useState<Method>('api-key');
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    document.title = 'Sign in · Roster console';
    heading.current?.focus();
  }, []);

  const attempt = useMutation({
    mutationFn: async (form: FormData): Promise<Credential> => {
      if (method === 'password') {
        return requestToken(apiUrl, textOf(form, 'username'), textOf(form, 'password'));
      }
      const candidate: Credential = { kind: 'api-key', key: textOf(form, 'apiKey').trim() };
      // Any protected read proves the key: the API answers 401 for a wrong one.
      await unwrap(
        api.GET('/events', { params: { query: { limit: 1 } }, headers: authHeaders(candidate) }),
      );
      return candidate;
    },
    onSuccess: signIn,
  });
  const problem = attempt.error ? toProblem(attempt.error) : undefined;

  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    attempt.mutate(new FormData(submitted.currentTarget));
  };

  return (
    <main id="main" className="sign-in">
      <h1 ref={heading} tabIndex={-1}>
        Sign in to the Roster console
      </h1>
      {endedBecause ? <p className="notice">{endedBecause}</p> : null}
      {passwordAvailable ? (
        <fieldset className="segmented">
          <legend>Sign in with</legend>
          {(['api-key', 'password'] as const).map((value) => (
            <label key={value}>
              <input
                type="radio"
                name="method"
                value={value}
                checked={method === value}
                onChange={() => {
                  attempt.reset();
                  setMethod(value);
                }}
              />
              {value === 'api-key' ? 'API key' : 'Username and password'}
            </label>
          ))}
        </fieldset>
      ) : null}
      <form onSubmit={submit} noValidate className="form" autoComplete="off">
        {problem ? <ProblemMessage problem={problem} /> : null}
        {method === 'api-key' ? (
          <Field
            name="apiKey"
            label="API key"
            hint="npm start prints it (and keeps it in .data/api-key). It stays in this tab only."
          >
            {(control) => (
              <input
                {...control}
                type="password"
                autoComplete="off"
                spellCheck={false}
                aria-invalid={problem ? true : undefined}
              />
            )}
          </Field>
        ) : (
          <>
            <Field name="username" label="Username">
              {(control) => <input {...control} type="text" autoComplete="username" />}
            </Field>
            <Field name="password" label="Password">
              {(control) => <input {...control} type="password" autoComplete="current-password" />}
            </Field>
          </>
        )}
        <div className="form-actions">
          <button type="submit" disabled={attempt.isPending}>
            {attempt.isPending ? 'Signing in…' : 'Sign in'}
          </button>
        </div>
      </form>
      <p className="muted small">API: {apiUrl}</p>
    </main>
  );
}
