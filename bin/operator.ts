/**
 * Platform operators' accounts, from the command line:
 * - `npm run operator -- create --email EMAIL --name NAME`: creates an operator and prints a
 *   generated password once (only its scrypt hash is stored). Their first sign-in to the console
 *   (/console) enrols a second factor (TOTP); scripts then get tokens at POST /auth/operator/token
 *   with a code.
 * - `npm run operator -- reset-totp --email EMAIL [--reason TEXT]`: for an operator who lost both
 *   their authenticator and their recovery codes: clears the enrolment and the recovery codes and
 *   ends their sessions, so their next sign-in enrols again. Audited as system:cli.
 * Uses DATABASE_URL, or the embedded database in DATA_DIR (stop `npm start` first: embedded PGlite
 * serves one process at a time).
 */
import './production-default.js';
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { systemClock } from '../core/clock.js';
import { loadConfig } from '../core/config.js';
import { PorticoError } from '../core/errors.js';
import { openDatabase, prepareDatabase } from '../platform/index.js';
import { createOperatorConsole } from '../subgraphs/app-management/operator-sessions.js';
import { createAppManagementStore } from '../subgraphs/app-management/store.js';

const USAGE = 'usage: npm run operator -- create --email EMAIL --name NAME\n       npm run operator -- reset-totp --email EMAIL [--reason TEXT]';
const { positionals, values } = parseArgs({ allowPositionals: true, options: { email: { type: 'string' }, name: { type: 'string' }, reason: { type: 'string' } } });
const command = positionals[0];
if (!values.email || !((command === 'create' && values.name) || command === 'reset-totp')) {
  console.error(USAGE);
  process.exit(2);
}
const email = values.email;
const config = loadConfig();
const database = await openDatabase(config, 'portico-operator-cli');
try {
  await prepareDatabase(database, ['app-management']);
  if (command === 'create') {
    const password = crypto.randomBytes(18).toString('base64url');
    const operator = await createAppManagementStore(database.db).createOperator({ email, name: values.name!, password });
    console.log(`operator ${operator.email} created (id ${operator.id})`);
    console.log(`password (shown once, store it in your password manager): ${password}`);
    console.log('their first sign-in at /console enrols a second factor (an authenticator app)');
  } else {
    // No keys: a reset seals nothing.
    const accounts = createOperatorConsole({ db: database.db, clock: systemClock, keks: [] });
    const reason = values.reason?.trim() || 'lost authenticator and recovery codes (reset from the command line)';
    if (await accounts.resetTotp(email, 'system:cli', reason)) {
      console.log(`operator ${email}: second factor and recovery codes cleared, sessions ended; their next sign-in at /console enrols again`);
    } else {
      console.error(`no operator has the email ${email}`);
      process.exitCode = 1;
    }
  }
} catch (error) {
  // Only our own errors are worded for people; a database error's message can carry query parameters.
  console.error(`could not ${command === 'create' ? 'create the operator' : 'reset the second factor'}: ${error instanceof PorticoError ? error.message : 'unexpected error (see the database logs)'}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
