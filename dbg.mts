import { startTestPlatform } from './tests/helpers/platform.js';
const t = await startTestPlatform({ seed: true });
try {
  const disc = await fetch(new URL('/.well-known/openid-configuration', t.url));
  console.log(disc.status, (await disc.text()).slice(0, 600));
} finally { await t.stop(); }
