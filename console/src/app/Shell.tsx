import { Link, Navigate, NavLink, type RouteObject, useRoutes } from 'react-router';
import { SignIn } from '../auth/SignIn';
import { useSession } from '../auth/session';
import { Page } from '../components/Page';
import { describeCredential } from '../lib/session';
import { DashboardRoute, hasDashboard } from '../screens/dashboard';
import { availableSections } from './sections';

/** The sections of the API the console was built against (fixed at build time). */
const sections = availableSections();

/** The start page: the dashboard, or (an API without its numbers) the first section's first link. */
const dashboard = hasDashboard();
const startLink = sections[0]?.links[0];

const routes: RouteObject[] = [
  {
    path: '/',
    element: dashboard ? (
      <DashboardRoute />
    ) : startLink ? (
      <Navigate to={startLink.to} replace />
    ) : null,
  },
  ...sections.flatMap((section) => section.routes),
  { path: '*', element: <NotFound /> },
];

/** The signed-in console: a header with the navigation and sign-out, and the current screen. */
export function Shell() {
  const { credential, signOut } = useSession();
  const screen = useRoutes(routes);

  if (!credential) return <SignIn />;
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <Link to="/" className="brand">
          Roster console
        </Link>
        <nav aria-label="Main">
          <ul>
            {dashboard ? (
              <li>
                <NavLink to="/" end>
                  Dashboard
                </NavLink>
              </li>
            ) : null}
            {sections.flatMap((section) =>
              section.links.map((link) => (
                <li key={link.to}>
                  <NavLink to={link.to}>{link.label}</NavLink>
                </li>
              )),
            )}
          </ul>
        </nav>
        <div className="account">
          <span className="muted small">{describeCredential(credential)}</span>
          <button type="button" className="secondary" onClick={() => signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main">{screen}</main>
    </>
  );
}

function NotFound() {
  return (
    <Page title="Not found">
      <p>
        There is no such page in the console. <Link to="/">Go to the start page</Link>.
      </p>
    </Page>
  );
}
