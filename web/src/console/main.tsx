/**
 * The operator console's entry (web/console/index.html, served at /console): the same Mantine
 * provider and CSP nonce handling as the portal's (web/src/main.tsx), the operator's session, and
 * the console's router.
 */
import '@mantine/core/styles.css';
import { MantineProvider } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';
import { CONSOLE, startFrontEnd } from '../lib/front-end';
import { cssVariablesResolver, theme } from '../theme';
import { router } from './routes';
import { OperatorSessionProvider, prefetchOperatorSession } from './session';

const cspNonce = (document.querySelector('meta[property="csp-nonce"]') as HTMLMetaElement & { nonce?: string } | null)?.nonce ?? '';
// Mantine's Modal locks scrolling with react-remove-scroll, whose <style> takes its nonce from this global.
(globalThis as { __webpack_nonce__?: string }).__webpack_nonce__ = cspNonce;

startFrontEnd(CONSOLE);
// Asked now, beside React's first render and the page's own chunk.
prefetchOperatorSession();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} getStyleNonce={() => cspNonce} defaultColorScheme="light">
      <OperatorSessionProvider>
        <RouterProvider router={router} />
      </OperatorSessionProvider>
    </MantineProvider>
  </StrictMode>,
);
