/**
 * `npm run keys -- init`: creates the platform's signing keys in KEYS_DIR (default DATA_DIR/keys) if
 * they are missing. Run once before starting services one per process; every service reads them.
 * `npm run keys -- rotate`: adds a new access-token signing key. Restart the account service (the
 * passport signs; with `npm start`, the whole process) to sign access tokens with it; `npm run token`
 * uses it at once. Gateways need no restart to accept it: they reload the keys the first time they
 * see a token signed with an unknown key (core/tokens.ts). They sign operator tokens with the key they
 * started with until restarted. The two previous keys stay published, so their tokens stay valid
 * until they expire.
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
  console.log(
    `new access-token key ${kid} in ${config.keysDir}. Restart the account service (or npm start) to sign access tokens with it. ` +
      'Gateways accept it without a restart (they sign operator tokens with their old key until restarted); ' +
      'tokens signed by the previous key stay valid until they expire.',
  );
} else {
  console.error('usage: npm run keys -- <init|rotate>');
  process.exit(2);
}
