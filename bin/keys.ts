/**
 * `npm run keys -- init`: creates the platform's signing keys in KEYS_DIR (default DATA_DIR/keys) if
 * they are missing. Run once before starting services one per process; every service reads them.
 * `npm run keys -- rotate`: adds a new access-token signing key. Restart the services (gateway and
 * token issuers) to sign with it; tokens signed by the previous key stay valid until they expire.
 */
import { loadConfig } from '../core/config.js';
import { loadPlatformKeys, rotateAccessTokenKey } from '../core/keys.js';

const command = process.argv[2];
const config = loadConfig();
if (command === 'init') {
  const keys = await loadPlatformKeys(config.keysDir, { create: true });
  console.log(`signing keys ready in ${config.keysDir} (access-token key ${keys.accessToken.kid})`);
} else if (command === 'rotate') {
  await loadPlatformKeys(config.keysDir, { create: false });
  const kid = await rotateAccessTokenKey(config.keysDir);
  console.log(`new access-token key ${kid} in ${config.keysDir}; restart the services to sign with it`);
} else {
  console.error('usage: npm run keys -- <init|rotate>');
  process.exit(2);
}
