import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './subgraphs/account/tables.ts',
  out: './subgraphs/account/migrations',
  schemaFilter: ['account'],
});
