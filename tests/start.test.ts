/** `npm start` as a newcomer runs it: a real process, demo.json, the token tool, and a clean SIGTERM. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { postGraphQL } from './helpers/platform.js';
import { freePort, projectRoot, runScript, waitForHttp } from './helpers/processes.js';

const exec = promisify(execFile);

test('start seeds the demo, writes demo.json, serves the order page, honours minted tokens and stops on SIGTERM', async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portico-start-'));
  const port = await freePort();
  const env = { DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' };
  const child = runScript('bin/start.ts', [], env);
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, child);
    const demo = JSON.parse(fs.readFileSync(path.join(dataDir, 'demo.json'), 'utf8'));
    expect(demo).toMatchObject({ graphqlUrl: `http://127.0.0.1:${port}/graphql`, appKey: 'app_demo_erp_sync' });
    expect(fs.statSync(path.join(dataDir, 'demo.json')).mode & 0o077).toBe(0);
    expect(child.output()).toContain('curl');

    const page = await postGraphQL<{ orders: { edges: unknown[] } }>(demo.graphqlUrl, demo.accessToken, '{ orders(first: 50) { edges { node { number status total { amount } lines { quantity product { title } } buyer { nickname } merchant { name } } } } }');
    expect(page.errors).toBeUndefined();
    expect(page.data!.orders.edges).toHaveLength(50);

    // The operator token tool reads the key from DATA_DIR; its token works against the running instance.
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'bin/token.ts', '--app', demo.appKey, '--merchant', demo.otherMerchantIds[0], '--scope', 'merchant:read'], {
      cwd: projectRoot,
      env: { ...process.env, ...env },
    });
    const other = await postGraphQL<{ merchant: { name: string } }>(demo.graphqlUrl, stdout.trim(), '{ merchant { name } }');
    expect(other.data).toEqual({ merchant: { name: 'Lotus Home & Kitchen' } });

    child.process.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  } finally {
    if (child.process.exitCode === null) child.process.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);
