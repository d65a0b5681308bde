/**
 * Every page of the portal and its address under /portal. Each page is its own chunk, loaded when
 * first visited, so the first load carries only the frame and the page asked for.
 *
 * The router loads a page's chunk (its `lazy`) before it shows the page, rather than React.lazy
 * under a Suspense boundary: React 19 holds content that suspended for at least 300 ms after its
 * fallback showed, which added 300 ms to every first visit of a page. On the first load the router
 * fetches the page's chunk beside the session check; on a navigation the current page stays (with
 * a bar at the top) until the next one's chunk is there.
 */
import type { ComponentType } from 'react';
import { createBrowserRouter, Navigate, Outlet } from 'react-router';
import { PortalLayout, PublicLayout } from './lib/layout';
import { PageLoader, RequireSession } from './lib/session';

function page(load: () => Promise<{ default: ComponentType }>) {
  return { lazy: async () => ({ Component: (await load()).default }) };
}

const loading = <PageLoader label="Loading the page" />;

export const router = createBrowserRouter(
  [
    {
      element: <PublicLayout />,
      hydrateFallbackElement: loading,
      children: [
        { path: 'sign-up', ...page(() => import('./pages/account/SignUpPage')) },
        { path: 'sign-up/check-email', ...page(() => import('./pages/account/CheckEmailPage')) },
        { path: 'verify', ...page(() => import('./pages/account/VerifyPage')) },
        { path: 'sign-in', ...page(() => import('./pages/account/SignInPage')) },
        { path: 'forgot-password', ...page(() => import('./pages/account/ForgotPasswordPage')) },
        { path: 'reset-password', ...page(() => import('./pages/account/ResetPasswordPage')) },
      ],
    },
    {
      element: <PortalLayout />,
      hydrateFallbackElement: loading,
      children: [
        // The reference is public: generated from the schema, it holds nothing of anyone's.
        { path: 'reference', ...page(() => import('./pages/reference/ReferencePage')) },
        { path: 'reference/:typeName', ...page(() => import('./pages/reference/ReferencePage')) },
        {
          element: (
            <RequireSession>
              <Outlet />
            </RequireSession>
          ),
          children: [
            { index: true, element: <Navigate to="/apps" replace /> },
            { path: 'apps', ...page(() => import('./pages/apps/AppsPage')) },
            { path: 'apps/new', ...page(() => import('./pages/apps/CreateAppPage')) },
            {
              path: 'apps/:appKey',
              ...page(() => import('./pages/apps/AppDetailPage')),
              children: [
                { index: true, element: <Navigate to="settings" replace /> },
                { path: 'settings', ...page(() => import('./pages/apps/tabs/SettingsTab')) },
                { path: 'review', ...page(() => import('./pages/apps/tabs/ReviewTab')) },
                { path: 'sandbox', ...page(() => import('./pages/apps/tabs/SandboxTab')) },
                { path: 'explorer', ...page(() => import('./pages/explorer/ExplorerPage')) },
                { path: 'packages', ...page(() => import('./pages/apps/tabs/PackagesTab')) },
                { path: 'messages', ...page(() => import('./pages/apps/tabs/MessagesTab')) },
                { path: 'calls', ...page(() => import('./pages/call-report/CallReportPage')) },
                { path: 'usage', ...page(() => import('./pages/apps/tabs/UsageTab')) },
              ],
            },
            { path: 'explorer', ...page(() => import('./pages/explorer/ExplorerIndexPage')) },
            { path: 'announcements', ...page(() => import('./pages/announcements/AnnouncementsPage')) },
          ],
        },
        { path: '*', ...page(() => import('./pages/NotFoundPage')) },
      ],
    },
  ],
  { basename: '/portal' },
);
