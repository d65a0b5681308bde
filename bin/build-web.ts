/**
 * `npm run build:web`: builds the web front ends (web/, Vite) into web/dist, which the gateway
 * serves: the developer portal at /portal, the operator console at /console and the merchant page at
 * /merchant (one build, three pages: web/vite.config.ts). `npm ci`/`npm install` run it (postinstall) and `npm start` runs it when the
 * build is missing (portalBuildMissing), so a newcomer needs no third command.
 *
 * Vite and the portal's libraries are devDependencies: an install without them (`npm ci --omit=dev`
 * for production) skips the build with a note instead of failing; build the portal where the dev
 * dependencies are (`npm run build:web`) and ship web/dist with the app.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../core/paths.js';

const viteConfig = path.join(projectRoot, 'web', 'vite.config.ts');
/** The page of each front end the build must write (gateway/portal.ts serves them). */
const builtPages = ['index.html', path.join('console', 'index.html'), path.join('merchant', 'index.html')].map((page) => path.join(projectRoot, 'web', 'dist', page));

/** Whether any front end's page is missing from web/dist. */
export const portalBuildMissing = (): boolean => builtPages.some((page) => !fs.existsSync(page));

function newestChange(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestChange(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Whether web/ (or the supergraph its reference is generated from) changed after the last build: the browser tests rebuild then. */
export function portalBuildStale(): boolean {
  if (portalBuildMissing()) return true;
  const built = Math.min(...builtPages.map((page) => fs.statSync(page).mtimeMs));
  return newestChange(path.join(projectRoot, 'web')) > built || fs.statSync(path.join(projectRoot, 'schema', 'supergraph.graphql')).mtimeMs > built;
}

function viteInstalled(): boolean {
  try {
    createRequire(path.join(projectRoot, 'package.json')).resolve('vite');
    return true;
  } catch {
    return false;
  }
}

/** How long the assets of a previous build are kept (web/vite.config.ts keeps them across a build). */
const PREVIOUS_BUILD_KEPT_MS = 60 * 60 * 1000;

/** Deletes the hashed assets no build wrote within PREVIOUS_BUILD_KEPT_MS (a build rewrites every file of its own). */
function prunePreviousBuilds(now: number) {
  const assets = path.join(projectRoot, 'web', 'dist', 'assets');
  if (!fs.existsSync(assets)) return;
  for (const name of fs.readdirSync(assets)) {
    const file = path.join(assets, name);
    if (fs.statSync(file).mtimeMs < now - PREVIOUS_BUILD_KEPT_MS) fs.rmSync(file);
  }
}

/** Builds the portal in this process. 'skipped' when Vite is not installed. */
export async function buildPortal(options: { quiet?: boolean } = {}): Promise<'built' | 'skipped'> {
  if (!viteInstalled()) return 'skipped';
  const { build } = await import('vite');
  await build({ configFile: viteConfig, logLevel: options.quiet ? 'warn' : 'info' });
  const missing = builtPages.filter((page) => !fs.existsSync(page));
  if (missing.length) throw new Error(`the build wrote no ${missing.map((page) => path.relative(projectRoot, page)).join(', ')} (check web/vite.config.ts's inputs)`);
  prunePreviousBuilds(Date.now());
  return 'built';
}

/** Builds the portal in a child process (its own core; Vite's memory is not kept by the platform). */
export function buildPortalInChild(): Promise<'built' | 'skipped'> {
  return new Promise((resolve, reject) => {
    // A production build whatever the caller runs as (jest sets NODE_ENV=test, and Vite would bundle React's development build).
    const env = { ...process.env, NODE_ENV: 'production' };
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--quiet'], { cwd: projectRoot, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(portalBuildMissing() ? 'skipped' : 'built');
      else reject(new Error(`the web front ends' build failed (exit code ${code})`));
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // The portal is always built for production: with NODE_ENV=development (or test) in the shell, Vite bundles React's development build.
  process.env.NODE_ENV = 'production';
  const quiet = process.argv.includes('--quiet');
  buildPortal({ quiet }).then(
    (result) => {
      if (result === 'skipped') console.log('The web front ends were not built: Vite is not installed (an install without devDependencies). Build it with `npm run build:web` where they are.');
    },
    (error: unknown) => {
      console.error(`The web front ends could not be built: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
