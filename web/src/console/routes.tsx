/**
 * Every page of the operator console and its address under /console. Each page is its own chunk,
 * loaded when first visited (page.ts). The operations pages (packages, APIs, traffic,
 * announcements, audit log) come from ops-routes.tsx.
 */
import { createBrowserRouter, Navigate } from 'react-router';
import { PublicLayout } from '../lib/layout';
import { PageLoader } from '../lib/session';
import { ConsoleLayout } from './layout';
import { opsRoutes } from './ops-routes';
import { page } from './page';
import { RequireOperator } from './session';

const loading = <PageLoader label="Loading the page" />;

export const router = createBrowserRouter(
  [
    {
      element: <PublicLayout />,
      hydrateFallbackElement: loading,
      children: [{ path: 'sign-in', ...page(() => import('./pages/sign-in/SignInPage')) }],
    },
    {
      element: (
        <RequireOperator>
          <ConsoleLayout />
        </RequireOperator>
      ),
      hydrateFallbackElement: loading,
      children: [
        { index: true, element: <Navigate to="/reviews" replace /> },
        { path: 'reviews', ...page(() => import('./pages/reviews/ReviewQueuePage')) },
        { path: 'developers', ...page(() => import('./pages/developers/DevelopersPage')) },
        { path: 'developers/:developerId', ...page(() => import('./pages/developers/DeveloperPage')) },
        { path: 'apps', ...page(() => import('./pages/apps/AppsPage')) },
        {
          path: 'apps/:appKey',
          ...page(() => import('./pages/apps/AppPage')),
          children: [
            { index: true, element: <Navigate to="overview" replace /> },
            { path: 'overview', ...page(() => import('./pages/apps/tabs/OverviewTab')) },
            { path: 'actions', ...page(() => import('./pages/apps/tabs/ActionsTab')) },
            { path: 'limits', ...page(() => import('./pages/apps/tabs/LimitsTab')) },
            { path: 'packages', ...page(() => import('./pages/apps/tabs/PackagesTab')) },
            { path: 'authorizations', ...page(() => import('./pages/apps/tabs/AuthorizationsTab')) },
            { path: 'calls', ...page(() => import('./pages/apps/tabs/CallsTab')) },
          ],
        },
        ...opsRoutes,
        { path: '*', ...page(() => import('./pages/NotFoundPage')) },
      ],
    },
  ],
  { basename: '/console' },
);

