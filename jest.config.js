/**
 * Jest runs in native ESM mode (see package.json "test"). TypeScript is stripped by sucrase, which is
 * plain JavaScript: transforms with native binaries (SWC) and jest 30's native resolver need
 * per-platform packages that npm ci insists on finding in the lock file for every platform.
 * Every test runs against embedded PGlite, or against the PostgreSQL server in DATABASE_URL (a fresh
 * database per test file). tests/server-mode/ runs services one per process and needs that server,
 * so it is selected only when DATABASE_URL is set.
 */
export default {
  testPathIgnorePatterns: ['/node_modules/', ...(process.env.DATABASE_URL ? [] : ['<rootDir>/tests/server-mode/'])],
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': '@sucrase/jest-plugin' },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  testTimeout: 60000,
};
