import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './subgraphs/app-management/tables.ts',
  out: './subgraphs/app-management/migrations',
  schemaFilter: ['app_management'],
});
