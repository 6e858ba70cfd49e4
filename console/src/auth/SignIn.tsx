import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { hasOperation, unwrap } from '../api/client';
import { Field } from '../components/Field';
import { textOf, useFormProblem } from '../components/forms';
import { ProblemMessage } from '../components/ProblemMessage';
import { authHeaders, type Credential, type SignInMethod } from '../lib/session';
import { useSession } from './session';
import { requestToken } from './token';

/**
 * Sign-in with an API key (checked against the API before it is kept), or with a username and
 * password → a bearer token when the API has `POST /auth/token`. The credential is kept for this
 * tab only. After a session ended, the method it used (or the one a screen asked for) comes first.
 */
export function SignIn() {
  const { api, apiUrl, signIn, endedBecause, suggestedMethod } = useSession();
  const passwordAvailable = hasOperation('POST /auth/token');
  const [method, setMethod] = useState<SignInMethod>(
    passwordAvailable && suggestedMethod === 'password' ? 'password' : 'api-key',
  );
  const form = useRef<HTMLFormElement>(null);
  const heading = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    document.title = 'Sign in · Roster console';
    heading.current?.focus();
  }, []);

  const attempt = useMutation({
    // The variables hold the password or key: forgotten as soon as this page is gone.
    gcTime: 0,
    mutationFn: async (data: FormData): Promise<Credential> => {
      if (method === 'password') {
        return requestToken(api, textOf(data, 'username'), textOf(data, 'password'));
      }
      const candidate: Credential = { kind: 'api-key', key: textOf(data, 'apiKey').trim() };
      // Any protected read proves the key: the API answers 401 for a wrong one.
      await unwrap(
        api.GET('/events', { params: { query: { limit: 1 } }, headers: authHeaders(candidate) }),
      );
      return candidate;
    },
    onSuccess: signIn,
  });
  // A 400 names its fields; a 401 can't say which of the two was wrong, so both are marked.
  const { problem, byField, unplaced } = useFormProblem(form, attempt.error, [
    'apiKey',
    'username',
    'password',
  ]);
  const refused = problem?.status === 401 ? true : undefined;

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
      <form ref={form} onSubmit={submit} noValidate className="form" autoComplete="off">
        <ProblemMessage problem={problem} unplaced={unplaced} />
        {method === 'api-key' ? (
          <Field
            name="apiKey"
            label="API key"
            hint="npm start prints it (and keeps it in .data/api-key). It stays in this tab only."
            errors={byField.apiKey}
            invalid={refused}
          >
            {(control) => (
              <input {...control} type="password" autoComplete="off" spellCheck={false} />
            )}
          </Field>
        ) : (
          <>
            <Field
              name="username"
              label="Username"
              hint="A user added with npm run users -- add <name> (on AWS, in the Cognito user pool)."
              errors={byField.username}
              invalid={refused}
            >
              {(control) => (
                <input
                  {...control}
                  type="text"
                  autoComplete="username"
                  autoCapitalize="none"
                  spellCheck={false}
                />
              )}
            </Field>
            <Field name="password" label="Password" errors={byField.password} invalid={refused}>
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
