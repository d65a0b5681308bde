/**
 * Jest runs in native ESM mode (see package.json "test"), TypeScript through SWC.
 * Every test runs against embedded PGlite, or against the PostgreSQL server in DATABASE_URL (a fresh
 * database per test file). tests/server-mode/ runs services one per process and needs that server,
 * so it is selected only when DATABASE_URL is set.
 */
export default {
  testPathIgnorePatterns: ['/node_modules/', ...(process.env.DATABASE_URL ? [] : ['<rootDir>/tests/server-mode/'])],
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  testTimeout: 60000,
};
