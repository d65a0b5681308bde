/**
 * Every page of the merchant page and its address under /merchant (the staff member's session
 * provider goes in the root route's element: lib/session.tsx's createSession with lib's readSession).
 */
import { createBrowserRouter } from 'react-router';
import { EmptyState, PublicLayout } from '../lib/layout';

export const router = createBrowserRouter(
  [
    {
      element: <PublicLayout />,
      children: [{ path: '*', element: <EmptyState title="The merchant page is not here yet" /> }],
    },
  ],
  { basename: '/merchant' },
);
