import type { ConsoleSection } from '../../app/section';
import { AgeGroupsPage } from './AgeGroupsPage';
import { EnrollmentPage } from './EnrollmentPage';
import { EnrollmentsPage } from './EnrollmentsPage';

/** The enrollments module: age groups, enrollments processed in the background. */
export const enrollmentsSection: ConsoleSection = {
  requires: 'POST /enrollments',
  links: [
    { to: '/age-groups', label: 'Age groups' },
    { to: '/enrollments', label: 'Enrollments' },
  ],
  routes: [
    { path: 'age-groups', element: <AgeGroupsPage /> },
    { path: 'enrollments', element: <EnrollmentsPage /> },
    { path: 'enrollments/:enrollmentId', element: <EnrollmentPage /> },
  ],
};
