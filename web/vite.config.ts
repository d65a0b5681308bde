/**
 * The web front ends' build: three single-page apps from one source tree, served by the gateway
 * (gateway/portal.ts) on the same origin as /graphql and /auth/*, so session cookies and CSRF headers
 * need no CORS: the developer portal (index.html, at /portal), the operator console
 * (console/index.html, at /console) and the merchant page (merchant/index.html, at /merchant).
 *
 * One build, one `base`: every entry's chunks are under /portal/assets, so what they share (React,
 * Mantine, the router, web/src/lib) is one set of hashed files, fetched and cached once by a
 * browser that opens more than one front end. Only the HTML differs per front end. `html.cspNonce` marks every tag Vite writes with a placeholder the gateway replaces by a fresh
 * nonce per response; the app hands the same nonce to Mantine for the <style> tags it injects.
 */
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';
import { withoutGraphiQLFonts } from './plugins/graphiql-fonts.js';
import { apiReference } from './plugins/reference.js';

export const CSP_NONCE_PLACEHOLDER = 'PORTICO_CSP_NONCE';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/portal/',
  plugins: [react(), apiReference(), withoutGraphiQLFonts()],
  html: { cspNonce: CSP_NONCE_PLACEHOLDER },
  build: {
    outDir: 'dist',
    // Files of the previous build stay (bin/build-web.ts prunes those older than an hour): a page
    // loaded before a rebuild still finds the chunks it asks for next, and a gateway serving web/dist
    // while it is rebuilt never finds it empty.
    emptyOutDir: false,
    // Hashed file names: the gateway serves /portal/assets/* as immutable.
    assetsDir: 'assets',
    chunkSizeWarningLimit: 1500,
    reportCompressedSize: true,
    rolldownOptions: {
      input: {
        portal: fileURLToPath(new URL('index.html', import.meta.url)),
        console: fileURLToPath(new URL('console/index.html', import.meta.url)),
        merchant: fileURLToPath(new URL('merchant/index.html', import.meta.url)),
      },
      // GraphiQL's react-compiler-runtime opens with "use no memo", which means nothing in a bundle.
      onLog(level, log, handler) {
        if (log.code === 'MODULE_LEVEL_DIRECTIVE' && log.id?.includes('react-compiler-runtime')) return;
        handler(level, log);
      },
    },
  },
  server: {
    // `vite --config web/vite.config.ts` during development: the API stays on the platform.
    proxy: {
      '/graphql': 'http://127.0.0.1:4000',
      '/auth': 'http://127.0.0.1:4000',
      '/dev/mailbox': 'http://127.0.0.1:4000',
    },
  },
});
