/**
 * The portal's entry: Mantine's provider (with the page's CSP nonce for the <style> tags it
 * injects), the session, and the router. Pages load on demand (routes.tsx), so the first load is
 * this file, the frame and the page asked for.
 */
import '@mantine/core/styles.css';
import { MantineProvider } from '@mantine/core';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';
import { PORTAL, startFrontEnd } from './lib/front-end';
import { prefetchDeveloperSession, SessionProvider } from './lib/session';
import { router } from './routes';
import { cssVariablesResolver, theme } from './theme';

/**
 * The nonce the gateway put in this response's Content-Security-Policy and in the meta tag Vite
 * writes (`html.cspNonce`); browsers hide the attribute, the `nonce` property still reads it.
 */
const cspNonce = (document.querySelector('meta[property="csp-nonce"]') as HTMLMetaElement & { nonce?: string } | null)?.nonce ?? '';
// Mantine's Modal locks scrolling with react-remove-scroll, whose <style> takes its nonce from this global.
(globalThis as { __webpack_nonce__?: string }).__webpack_nonce__ = cspNonce;

startFrontEnd(PORTAL);
// Asked now, beside React's first render and the page's own chunk.
prefetchDeveloperSession();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver} getStyleNonce={() => cspNonce} defaultColorScheme="light">
      <SessionProvider>
        <RouterProvider router={router} />
      </SessionProvider>
    </MantineProvider>
  </StrictMode>,
);
