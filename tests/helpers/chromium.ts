/**
 * A real browser for the portal's tests: Debian's Chromium (`/usr/bin/chromium`, or CHROMIUM_PATH)
 * driven by playwright-core. Besides the page, a PortalTab keeps what a test asserts across every
 * page it visits: accessibility (axe-core, injected over the DevTools protocol, which the page's CSP
 * does not govern), Content-Security-Policy violations, console errors, a screenshot of each page
 * under test-artifacts/portal/, and each full load's navigation timing.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where screenshots go (git-ignored; CI keeps the folder as the run's artifacts). */
export const ARTIFACTS_DIR = path.resolve('test-artifacts', 'portal');

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-dev-shm-usage'],
  });
}

export interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

export interface NavigationTiming {
  page: string;
  /** From the navigation's start: the HTML's response ends, the DOM is ready, the load event ends. */
  responseEnd: number;
  domContentLoaded: number;
  load: number;
  /** When the page's own content (its <h1>) was on screen, from the navigation's start. */
  contentShown: number;
  /** JavaScript transferred for this load (bytes over the wire, after compression), and its files. */
  scriptBytes: number;
  scripts: number;
}

export interface PortalTab {
  context: BrowserContext;
  page: Page;
  /** Every CSP violation the pages reported (securitypolicyviolation events). */
  cspViolations: string[];
  /** Console errors and uncaught page errors. */
  errors: string[];
  timings: NavigationTiming[];
  /** Loads `path` as a first visit would (a full navigation), waits for its <h1> and records the timing. */
  load(path: string, name: string): Promise<NavigationTiming>;
  /** axe-core on the page as it is; the serious and critical violations. */
  audit(): Promise<AxeViolation[]>;
  /** A full-page screenshot as test-artifacts/portal/<nn>-<name>.png. */
  screenshot(name: string): Promise<string>;
  /** audit + screenshot, named for the page. */
  check(name: string): Promise<AxeViolation[]>;
}

let shots = 0;

/** `artifactsDir`: where this tab's screenshots go (the console's journey keeps its own folder). */
export async function openPortalTab(browser: Browser, origin: string, artifactsDir = ARTIFACTS_DIR): Promise<PortalTab> {
  // This run's screenshots only.
  fs.rmSync(artifactsDir, { recursive: true, force: true });
  fs.mkdirSync(artifactsDir, { recursive: true });
  // Reduced motion: no transition is caught half-way by a screenshot or by axe's contrast check.
  const context = await browser.newContext({ baseURL: origin, viewport: { width: 1280, height: 900 }, reducedMotion: 'reduce' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  // Long enough for a slow spell of a shared machine, short enough that a missing element fails fast.
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const cspViolations: string[] = [];
  const errors: string[] = [];
  await page.exposeFunction('__reportCspViolation', (text: string) => cspViolations.push(text));
  // Page-side code is written as strings: the tests' TypeScript has no DOM types.
  await page.addInitScript(`new MutationObserver((_, observer) => {
    if (document.querySelector('h1')) { window.__contentShownAt = performance.now(); observer.disconnect(); }
  }).observe(document, { childList: true, subtree: true });
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__reportCspViolation(location.pathname + ': ' + event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline') + ' (' + event.sample + ') at ' + event.sourceFile + ':' + event.lineNumber + ':' + event.columnNumber);
  });`);
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));

  const tab: PortalTab = {
    context,
    page,
    cspViolations,
    errors,
    timings: [],
    async load(pathname, name) {
      await page.goto(pathname, { waitUntil: 'load' });
      await page
        .locator('h1')
        .first()
        .waitFor({ state: 'visible' })
        .catch(async (error: unknown) => {
          await tab.screenshot(`failed-${name.replace(/[^a-z]+/gi, '-')}`);
          throw error;
        });
      const measured = (await page.evaluate(`(() => {
        const navigation = performance.getEntriesByType('navigation')[0];
        const scripts = performance.getEntriesByType('resource').filter((r) => r.name.endsWith('.js'));
        return {
          responseEnd: Math.round(navigation.responseEnd),
          domContentLoaded: Math.round(navigation.domContentLoadedEventEnd),
          load: Math.round(navigation.loadEventEnd),
          contentShown: Math.round(window.__contentShownAt ?? performance.now()),
          scriptBytes: scripts.reduce((sum, r) => sum + r.transferSize, 0),
          scripts: scripts.length,
        };
      })()`)) as Omit<NavigationTiming, 'page'>;
      const timing = { page: name, ...measured };
      tab.timings.push(timing);
      return timing;
    },
    async audit() {
      await page.evaluate(axeSource);
      const violations = (await page.evaluate(`window.axe.run(document, { resultTypes: ['violations'] }).then((result) => result.violations)`)) as AxeViolation[];
      return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
    },
    async screenshot(name) {
      const file = path.join(artifactsDir, `${String(++shots).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async check(name) {
      const violations = await tab.audit();
      await tab.screenshot(name);
      return violations;
    },
  };
  return tab;
}

/** One line per violation, for a failing assertion's message. */
export const describeViolations = (violations: AxeViolation[]) =>
  violations.map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);

/** The timings as a table for the test's output. */
export function timingTable(timings: NavigationTiming[]): string {
  const rows = timings.map((t) => `${t.page.padEnd(28)} ${String(t.responseEnd).padStart(6)} ${String(t.domContentLoaded).padStart(6)} ${String(t.load).padStart(6)} ${String(t.contentShown).padStart(8)} ${String(Math.round(t.scriptBytes / 1024)).padStart(7)} kB in ${t.scripts}`);
  return [`${'page'.padEnd(28)} ${'html'.padStart(6)} ${'dom'.padStart(6)} ${'load'.padStart(6)} ${'content'.padStart(8)} ${'js (wire)'.padStart(10)}`, ...rows].join('\n');
}
