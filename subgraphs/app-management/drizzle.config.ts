import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  // The message channel's tables (messages/tables.ts) live in this schema too.
  schema: ['./subgraphs/app-management/tables.ts', './messages/tables.ts'],
  out: './subgraphs/app-management/migrations',
  schemaFilter: ['app_management'],
});
