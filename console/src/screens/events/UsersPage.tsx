import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useRef, useState } from 'react';
import { Link, useParams } from 'react-router';
import { idempotencyKey, unwrap } from '../../api/client';
import { itemsOf } from '../../api/pages';
import { useApi } from '../../auth/session';
import { Field } from '../../components/Field';
import { textOf, useFormProblem } from '../../components/forms';
import { LoadMore } from '../../components/LoadMore';
import { Page } from '../../components/Page';
import { ProblemMessage } from '../../components/ProblemMessage';
import { Loading, StatusMessage } from '../../components/Status';
import { formatTime } from '../../lib/time';
import {
  eventPath,
  keys,
  type Registration,
  userPath,
  useUser,
  useUserList,
  useUserRegistrations,
} from './queries';

/** Users, oldest first, and a form to add one. */
export function UsersPage() {
  const list = useUserList();
  const users = itemsOf(list.data?.pages);
  return (
    <Page title="Users">
      <NewUserForm />
      <section aria-labelledby="users-heading">
        <h2 id="users-heading">All users</h2>
        {list.isPending ? <Loading what="users" /> : null}
        <ProblemMessage error={list.error} />
        {list.isSuccess && users.length === 0 ? <p>No users yet.</p> : null}
        {users.length > 0 ? (
          <table className="cards">
            <thead>
              <tr>
                <th scope="col">User id</th>
                <th scope="col">Name</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {users.map((user) => (
                <tr key={user.userId}>
                  <td data-label="User id">
                    <Link to={userPath(user.userId)}>{user.userId}</Link>
                  </td>
                  <td data-label="Name">{user.name}</td>
                  <td data-label="Created">{formatTime(user.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
        <LoadMore query={list} label="Load more users" />
      </section>
    </Page>
  );
}

function NewUserForm() {
  const api = useApi();
  const queryClient = useQueryClient();
  const form = useRef<HTMLFormElement>(null);
  const [news, setNews] = useState<string>();
  const create = useMutation({
    mutationFn: async (body: { userId?: string; name: string }) =>
      (
        await unwrap(
          api.POST('/users', { body, params: { header: { 'idempotency-key': idempotencyKey() } } }),
        )
      ).data,
    onSuccess: (user) => {
      form.current?.reset();
      setNews(`User ${user.userId} (${user.name}) created.`);
      void queryClient.invalidateQueries({ queryKey: keys.users });
    },
  });
  const { problem, byField, unplaced } = useFormProblem(form, create.error, ['userId', 'name']);

  const submit = (submitted: FormEvent<HTMLFormElement>) => {
    submitted.preventDefault();
    const data = new FormData(submitted.currentTarget);
    const userId = textOf(data, 'userId').trim();
    setNews(undefined);
    create.mutate({ ...(userId ? { userId } : {}), name: textOf(data, 'name') });
  };

  return (
    <section aria-labelledby="new-user-heading">
      <h2 id="new-user-heading">New user</h2>
      <form ref={form} onSubmit={submit} noValidate className="form">
        <ProblemMessage problem={problem} unplaced={unplaced} />
        <div className="field-row">
          <Field
            name="userId"
            label="User id"
            hint="Optional (generated when empty)."
            errors={byField.userId}
          >
            {(control) => <input {...control} type="text" autoComplete="off" />}
          </Field>
          <Field name="name" label="Name" required errors={byField.name}>
            {(control) => <input {...control} type="text" autoComplete="off" />}
          </Field>
        </div>
        <div className="form-actions">
          <button type="submit" disabled={create.isPending}>
            {create.isPending ? 'Creating…' : 'Create user'}
          </button>
        </div>
      </form>
      <StatusMessage>{news}</StatusMessage>
    </section>
  );
}

/** A user and their registrations, newest first. */
export function UserPage() {
  const { userId = '' } = useParams();
  const user = useUser(userId);
  const registrations = useUserRegistrations(userId);
  const items = itemsOf(registrations.data?.pages);
  return (
    <Page title={user.data?.name ?? userId}>
      <ProblemMessage error={user.error} />
      {user.data ? (
        <p className="muted">
          {user.data.userId} · created {formatTime(user.data.createdAt)}
        </p>
      ) : null}
      <section aria-labelledby="user-registrations-heading">
        <h2 id="user-registrations-heading">Registrations</h2>
        {registrations.isPending ? <Loading what="registrations" /> : null}
        <ProblemMessage error={registrations.error} />
        {registrations.isSuccess && items.length === 0 ? <p>No registrations.</p> : null}
        <ul className="registrations">
          {items.map((registration) => (
            <li key={registration.registrationId}>
              <span className="who">
                <Link to={eventPath(registration.eventId)}>{registration.event.title}</Link>
              </span>
              <span>{registrationState(registration)}</span>
              <span className="muted small">{registration.event.date}</span>
            </li>
          ))}
        </ul>
        <LoadMore query={registrations} label="Load more registrations" />
      </section>
    </Page>
  );
}

/** A registration's state in a few words, with the time that matters for an offer. */
function registrationState(registration: Registration): string {
  switch (registration.status) {
    case 'confirmed':
      return 'confirmed';
    case 'waitlisted':
      return `waitlisted, position ${registration.waitlistPosition}`;
    case 'offered':
      return `offered a seat, answer due ${formatTime(registration.offerExpiresAt)}`;
    case 'expired':
      return `offer lapsed ${formatTime(registration.offerExpiresAt)}`;
    case 'declined':
      return `offer declined ${formatTime(registration.declinedAt)}`;
  }
}
