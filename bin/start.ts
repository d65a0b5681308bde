/** `npm start`: the whole platform in one process on its embedded default (or DATABASE_URL). */
import './production-default.js';
import { loadConfig } from '../core/config.js';
import { initializePglite } from '../core/pglite-cluster.js';

/**
 * On a first start the embedded database is created (in a child process) while the platform's code
 * loads, before anything else: the two take about as long, and run side by side on separate cores.
 */
function initializeEmbeddedDatabase(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch {
    return Promise.resolve(); // startPlatform says what is wrong with the configuration
  }
  return config.databaseUrl ? Promise.resolve() : initializePglite(config.dataDir);
}
const embeddedDatabase = initializeEmbeddedDatabase().then(
  () => undefined,
  (error: unknown) => error,
);
// The developer portal's build (web/dist) when `npm install` did not make it: beside the platform's start.
const { buildPortalInChild, portalBuildMissing } = await import('./build-web.js');
const portalBuild = portalBuildMissing()
  ? (console.log('Building the developer portal (web/) once, for /portal ...'), buildPortalInChild().then(() => undefined, (error: unknown) => error as Error))
  : Promise.resolve(undefined);
const { startPlatform } = await import('../platform/index.js');

const platform = await embeddedDatabase
  .then((failed) => {
    if (failed) throw failed;
    return startPlatform();
  })
  .catch((error: unknown) => {
    console.error(`Portico could not start: ${(error as Error).message}`);
    process.exit(1);
  });

const { config, demo } = platform;
const portalFailed = await portalBuild;
const lines = [
  '',
  `Portico is running: ${config.publicUrl}/graphql  (health: ${config.publicUrl}/healthz)`,
  portalBuildMissing()
    ? `Developer portal: not built (${portalFailed?.message ?? 'Vite is not installed'}); run npm run build:web`
    : `Developer portal: ${config.publicUrl}/portal/  (sign up there${config.mail.smtpUrl ? '' : `; its emails are in the local mailbox, ${config.publicUrl}/dev/mailbox`})`,
  ...(portalBuildMissing()
    ? []
    : [
        `Operator console: ${config.publicUrl}/console/${demo ? `  (the demo operator is in ${config.dataDir}/demo.json; the first sign-in sets up an authenticator app)` : ''}`,
        `Merchant page: ${config.publicUrl}/merchant/${demo ? '  (merchant staff sign in; the demo staff login is in demo.json)' : ''}`,
      ]),
  `Data: ${config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`}`,
];
if (demo) {
  lines.push(
    `Demo app ${demo.appKey} acting for merchant "${demo.merchantName}"; credentials in ${config.dataDir}/demo.json`,
    '',
    'Try it:',
    `  TOKEN=$(node -p "require('${config.dataDir}/demo.json').accessToken")`,
    `  curl -s ${config.publicUrl}/graphql -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
    `    -d '{"query":"{ orders(first: 3) { nodes { number status total { amount currency } lines { quantity product { title } } } } }"}'`,
  );
}
lines.push('');
console.log(lines.join('\n'));

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    platform.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}
