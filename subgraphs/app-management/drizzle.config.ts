import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  // The message channel's records (core/messages/tables.ts) live in this schema too.
  schema: ['./subgraphs/app-management/tables.ts', './core/messages/tables.ts'],
  out: './subgraphs/app-management/migrations',
  schemaFilter: ['app_management'],
});
