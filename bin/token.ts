/**
 * `npm run token -- --app KEY [--merchant ID] --scope "orders:read products:read" [--ttl 3600]`
 * An operator tool: mints an access token for the local instance with the platform key in KEYS_DIR
 * (default DATA_DIR/keys). Without --merchant the token has no `sub`: an app-level token that reads
 * no merchant data. --ttl is 1 to 7200 seconds. Real clients get tokens through OAuth. Prints the
 * token alone, for scripts.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../core/config.js';
import { loadPlatformKeys } from '../core/keys.js';
import { mintAccessToken } from '../core/tokens.js';

const { values } = parseArgs({
  options: {
    app: { type: 'string' },
    merchant: { type: 'string' },
    scope: { type: 'string', default: '' },
    ttl: { type: 'string', default: '3600' },
  },
});
if (!values.app) {
  console.error('usage: npm run token -- --app KEY [--merchant ID] --scope "orders:read ..." [--ttl SECONDS (max 7200)]');
  process.exit(2);
}
const ttlSeconds = Number(values.ttl);
if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 7200) {
  console.error('--ttl must be a whole number of seconds from 1 to 7200');
  process.exit(2);
}
const config = loadConfig();
const keys = await loadPlatformKeys(config.keysDir, { create: false }).catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
const token = await mintAccessToken(keys, {
  issuer: config.publicUrl,
  audience: config.apiAudience,
  appKey: values.app,
  merchantId: values.merchant ?? null,
  scope: values.scope,
  ttlSeconds,
});
process.stdout.write(`${token}\n`);
