/**
 * `npm run operator -- create --email EMAIL --name NAME`: creates a platform operator and prints a
 * generated password once (only its scrypt hash is stored). Operators then sign in at
 * POST /auth/operator/token. Uses DATABASE_URL, or the embedded database in DATA_DIR (stop
 * `npm start` first: embedded PGlite serves one process at a time).
 */
import './production-default.js';
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import { PorticoError } from '../core/errors.js';
import { openDatabase, prepareDatabase } from '../platform/index.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { email: { type: 'string' }, name: { type: 'string' } } });
if (positionals[0] !== 'create' || !values.email || !values.name) {
  console.error('usage: npm run operator -- create --email EMAIL --name NAME');
  process.exit(2);
}
const config = loadConfig();
const database = await openDatabase(config, 'portico-operator-cli');
try {
  await prepareDatabase(database, ['app-management']);
  const password = crypto.randomBytes(18).toString('base64url');
  const operator = await createAppManagementStore(database.db).createOperator({ email: values.email, name: values.name, password });
  console.log(`operator ${operator.email} created (id ${operator.id})`);
  console.log(`password (shown once, store it in your password manager): ${password}`);
} catch (error) {
  // Only our own errors are worded for people; a database error's message can carry query parameters.
  console.error(`could not create the operator: ${error instanceof PorticoError ? error.message : 'unexpected error (see the database logs)'}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
