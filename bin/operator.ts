/**
 * Platform operators' accounts, from the command line:
 * - `npm run operator -- create --email EMAIL --name NAME`: creates an operator and prints a
 *   generated password once (only its scrypt hash is stored). Their first sign-in to the console
 *   (/console) enrols a second factor (TOTP); scripts then get tokens at POST /auth/operator/token
 *   with a code.
 * - `npm run operator -- reset-totp --email EMAIL [--reason TEXT]`: for an operator who lost both
 *   their authenticator and their recovery codes: clears the enrolment and the recovery codes and
 *   ends their sessions, so their next sign-in enrols again. Audited as system:cli.
 * - `npm run operator -- disable --email EMAIL --reason TEXT` (and `enable`): a disabled operator
 *   cannot sign in, and their console sessions end within seconds. Audited as system:cli.
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

const USAGE = [
  'usage: npm run operator -- create --email EMAIL --name NAME',
  '       npm run operator -- reset-totp --email EMAIL [--reason TEXT]',
  '       npm run operator -- disable|enable --email EMAIL --reason TEXT',
].join('\n');
const { positionals, values } = parseArgs({ allowPositionals: true, options: { email: { type: 'string' }, name: { type: 'string' }, reason: { type: 'string' } } });
const command = positionals[0];
const valid = (command === 'create' && values.name) || command === 'reset-totp' || ((command === 'disable' || command === 'enable') && values.reason?.trim());
if (!values.email || !valid) {
  console.error(USAGE);
  process.exit(2);
}
const email = values.email;
const config = loadConfig();
const database = await openDatabase(config, 'portico-operator-cli');
try {
  await prepareDatabase(database, ['app-management']);
  // No keys: nothing is sealed here.
  const accounts = createOperatorConsole({ db: database.db, clock: systemClock, keks: [] });
  if (command === 'create') {
    const password = crypto.randomBytes(18).toString('base64url');
    const operator = await createAppManagementStore(database.db).createOperator({ email, name: values.name!, password });
    console.log(`operator ${operator.email} created (id ${operator.id})`);
    console.log(`password (shown once, store it in your password manager): ${password}`);
    console.log('their first sign-in at /console enrols a second factor (an authenticator app)');
  } else if (command === 'reset-totp') {
    const reason = values.reason?.trim() || 'lost authenticator and recovery codes (reset from the command line)';
    if (await accounts.resetTotp(email, 'system:cli', reason)) {
      console.log(`operator ${email}: second factor and recovery codes cleared, sessions ended; their next sign-in at /console enrols again`);
    } else {
      console.error(`no operator has the email ${email}`);
      process.exitCode = 1;
    }
  } else if (await accounts.setDisabled(email, command === 'disable', 'system:cli', values.reason!.trim())) {
    console.log(command === 'disable' ? `operator ${email} disabled: no sign-in, their sessions ended` : `operator ${email} enabled again`);
  } else {
    console.error(`no operator has the email ${email}, or they are ${command}d already`);
    process.exitCode = 1;
  }
} catch (error) {
  // Only our own errors are worded for people; a database error's message can carry query parameters.
  console.error(`could not ${command === 'reset-totp' ? 'reset the second factor of' : command} the operator: ${error instanceof PorticoError ? error.message : 'unexpected error (see the database logs)'}`);
  process.exitCode = 1;
} finally {
  await database.close();
}
