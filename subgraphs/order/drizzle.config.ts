import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './subgraphs/order/tables.ts',
  out: './subgraphs/order/migrations',
  schemaFilter: ['order'],
});
