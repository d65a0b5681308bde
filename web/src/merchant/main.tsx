/**
 * The merchant page's entry (web/merchant/index.html, served at /merchant): the same Mantine provider
 * and CSP nonce handling as the portal's (web/src/main.tsx), the staff member's session, and the
 * merchant page's router.
 */
import '@mantine/core/styles.css';
import { MantineProvider } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';
import { MERCHANT, startFrontEnd } from '../lib/front-end';
import { cssVariablesResolver, theme } from '../theme';
import { router } from './routes';
import { StaffSessionProvider, prefetchStaffSession } from './session';

const cspNonce = (document.querySelector('meta[property="csp-nonce"]') as HTMLMetaElement & { nonce?: string } | null)?.nonce ?? '';
// Mantine's Modal locks scrolling with react-remove-scroll, whose <style> takes its nonce from this global.
(globalThis as { __webpack_nonce__?: string }).__webpack_nonce__ = cspNonce;

startFrontEnd(MERCHANT);
// Asked now, beside React's first render and the page's own chunk.
prefetchStaffSession();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} getStyleNonce={() => cspNonce} defaultColorScheme="light">
      <StaffSessionProvider>
        <RouterProvider router={router} />
      </StaffSessionProvider>
    </MantineProvider>
  </StrictMode>,
);
