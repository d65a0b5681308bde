/** The merchant page's addresses under /merchant: sign-in, and the apps the merchant authorized. */
import { createBrowserRouter, Navigate } from 'react-router';
import { PublicLayout } from '../lib/layout';
import { PageLoader } from '../lib/session';
import { MerchantLayout } from './layout';
import AuthorizedAppsPage from './pages/AuthorizedAppsPage';
import SignInPage from './pages/SignInPage';
import { RequireStaff } from './session';

const loading = <PageLoader label="Loading the page" />;

export const router = createBrowserRouter(
  [
    {
      element: <PublicLayout />,
      hydrateFallbackElement: loading,
      children: [{ path: 'sign-in', element: <SignInPage /> }],
    },
    {
      element: (
        <RequireStaff>
          <MerchantLayout />
        </RequireStaff>
      ),
      hydrateFallbackElement: loading,
      children: [
        { index: true, element: <AuthorizedAppsPage /> },
        // One page: any other address under /merchant is that page.
        { path: '*', element: <Navigate to="/" replace /> },
      ],
    },
  ],
  { basename: '/merchant' },
);
