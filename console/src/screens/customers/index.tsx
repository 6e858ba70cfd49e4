import type { ConsoleSection } from '../../app/section';
import { CustomersPage } from './CustomersPage';

/** The customers module: customer ids and their workflow runs. */
export const customersSection: ConsoleSection = {
  requires: 'PUT /customers/{id}',
  links: [{ to: '/customers', label: 'Customers' }],
  routes: [{ path: 'customers', element: <CustomersPage /> }],
};
