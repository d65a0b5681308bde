/**
 * Jest runs in native ESM mode (see package.json "test"). TypeScript is stripped by sucrase, which is
 * plain JavaScript: transforms with native binaries (SWC) and jest 30's native resolver need
 * per-platform packages that npm ci insists on finding in the lock file for every platform.
 * Every test runs against embedded PGlite, or against the PostgreSQL server in DATABASE_URL (a fresh
 * database per test file). tests/server-mode/ runs services one per process and needs that server,
 * so it is selected only when DATABASE_URL is set.
 */
export default {
  // Browser journeys (tests/*-browser.test.ts) run in the PGlite run only: the pages talk to the public
  // API, never to the database, and a second run would spend CI's time timing the same pages again.
  testPathIgnorePatterns: ['/node_modules/', ...(process.env.DATABASE_URL ? ['<rootDir>/tests/[^/]*-browser\\.test\\.ts$'] : ['<rootDir>/tests/server-mode/'])],
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': '@sucrase/jest-plugin' },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  // Hooks and tests start whole platforms. On this shared machine's slow spells, starting one late in
  // a long run took over 60 s (a fresh-clone CI run had five tests of tests/errors.test.ts time out
  // in their platform start; the file passes alone in about a minute), so they get 120 s.
  testTimeout: 120000,
};
