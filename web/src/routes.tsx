/**
 * Every page of the portal and its address under /portal. Each page is its own chunk (React.lazy),
 * loaded when first visited, so the first load carries only the frame and the page asked for.
 */
import { lazy, Suspense, type ComponentType } from 'react';
import { createBrowserRouter, Navigate, Outlet } from 'react-router';
import { PortalLayout, PublicLayout } from './lib/layout';
import { PageLoader, RequireSession } from './lib/session';

function page(load: () => Promise<{ default: ComponentType }>) {
  const Page = lazy(load);
  return (
    <Suspense fallback={<PageLoader label="Loading the page" />}>
      <Page />
    </Suspense>
  );
}

export const router = createBrowserRouter(
  [
    {
      element: <PublicLayout />,
      children: [
        { path: 'sign-up', element: page(() => import('./pages/account/SignUpPage')) },
        { path: 'sign-up/check-email', element: page(() => import('./pages/account/CheckEmailPage')) },
        { path: 'verify', element: page(() => import('./pages/account/VerifyPage')) },
        { path: 'sign-in', element: page(() => import('./pages/account/SignInPage')) },
        { path: 'forgot-password', element: page(() => import('./pages/account/ForgotPasswordPage')) },
        { path: 'reset-password', element: page(() => import('./pages/account/ResetPasswordPage')) },
      ],
    },
    {
      element: <PortalLayout />,
      children: [
        // The reference is public: generated from the schema, it holds nothing of anyone's.
        { path: 'reference', element: page(() => import('./pages/reference/ReferencePage')) },
        { path: 'reference/:typeName', element: page(() => import('./pages/reference/ReferencePage')) },
        {
          element: (
            <RequireSession>
              <Outlet />
            </RequireSession>
          ),
          children: [
            { index: true, element: <Navigate to="/apps" replace /> },
            { path: 'apps', element: page(() => import('./pages/apps/AppsPage')) },
            { path: 'apps/new', element: page(() => import('./pages/apps/CreateAppPage')) },
            {
              path: 'apps/:appKey',
              element: page(() => import('./pages/apps/AppDetailPage')),
              children: [
                { index: true, element: <Navigate to="settings" replace /> },
                { path: 'settings', element: page(() => import('./pages/apps/tabs/SettingsTab')) },
                { path: 'review', element: page(() => import('./pages/apps/tabs/ReviewTab')) },
                { path: 'sandbox', element: page(() => import('./pages/apps/tabs/SandboxTab')) },
                { path: 'explorer', element: page(() => import('./pages/explorer/ExplorerPage')) },
                { path: 'packages', element: page(() => import('./pages/apps/tabs/PackagesTab')) },
                { path: 'messages', element: page(() => import('./pages/apps/tabs/MessagesTab')) },
                { path: 'calls', element: page(() => import('./pages/call-report/CallReportPage')) },
                { path: 'usage', element: page(() => import('./pages/apps/tabs/UsageTab')) },
              ],
            },
            { path: 'explorer', element: page(() => import('./pages/explorer/ExplorerIndexPage')) },
            { path: 'announcements', element: page(() => import('./pages/announcements/AnnouncementsPage')) },
          ],
        },
        { path: '*', element: page(() => import('./pages/NotFoundPage')) },
      ],
    },
  ],
  { basename: '/portal' },
);
