import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './subgraphs/product/tables.ts',
  out: './subgraphs/product/migrations',
  schemaFilter: ['product'],
});
