import { lazy, Suspense } from 'react';
import { Loading } from '../../components/Status';

export { hasDashboard } from './operations';

/** The dashboard and its chart library are downloaded only when the dashboard is opened. */
const Dashboard = lazy(() => import('./Dashboard'));

/** The console's home when the API has any of the dashboard's numbers. */
export function DashboardRoute() {
  return (
    <Suspense fallback={<Loading what="the dashboard" />}>
      <Dashboard />
    </Suspense>
  );
}
