/**
 * The documentation stays true to the code: the configuration reference is the one core/config.ts
 * renders, links between pages lead somewhere, and the README states the Node version package.json
 * declares.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SUBGRAPH_NAMES, CONFIG_OPTIONS, loadConfig } from '../core/config.js';
import { CONFIGURATION_REFERENCE_PATH, renderConfigurationReference } from '../core/config-reference.js';
import { DEFAULT_SUBGRAPH_PORTS } from '../core/composition.js';
import { projectRoot } from '../core/paths.js';

const read = (file: string) => fs.readFileSync(path.join(projectRoot, file), 'utf8');

/** Every Markdown page a reader is sent to from the README. */
const pages = ['README.md', ...fs.readdirSync(path.join(projectRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`), 'bench/README.md', 'examples/erp-sync/README.md'];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsIn(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*)$/.exec(line);
    if (!heading) continue;
    const base = anchorOf(heading[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Relative links outside code: `[text](target)`, with an optional `#anchor`. */
function relativeLinksIn(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((target) => !/^[a-z]+:/i.test(target));
}

test('docs/configuration.md is what core/config.ts renders (run `npm run docs` after changing an option)', () => {
  const checkedIn = fs.existsSync(path.join(projectRoot, CONFIGURATION_REFERENCE_PATH)) ? read(CONFIGURATION_REFERENCE_PATH) : '';
  const rendered = renderConfigurationReference();
  if (checkedIn !== rendered) throw new Error(`${CONFIGURATION_REFERENCE_PATH} is stale: run \`npm run docs\` and commit it`);
});

test('the reference names every option loadConfig reads, with the subgraph defaults bin/serve.ts applies', () => {
  const page = read(CONFIGURATION_REFERENCE_PATH);
  for (const name of Object.keys(CONFIG_OPTIONS)) expect(page).toContain(`### \`${name}\``);
  for (const name of SUBGRAPH_NAMES) {
    const variable = `${name.toUpperCase().replace('-', '_')}_URL` as keyof typeof CONFIG_OPTIONS;
    expect(CONFIG_OPTIONS[variable]).toBeDefined();
    expect((CONFIG_OPTIONS[variable] as { defaultText?: string }).defaultText).toBe(`\`http://127.0.0.1:${DEFAULT_SUBGRAPH_PORTS[name]}/graphql\``);
  }
  // A variable the table does not declare is not read: it never reaches Config.
  expect(loadConfig({ MESSAGE_RECORD_QUIET_MS: 'not a number' })).toEqual(loadConfig({}));
});

test('every relative link in the README and docs leads to an existing file and heading', () => {
  const broken: string[] = [];
  for (const page of pages) {
    for (const link of relativeLinksIn(read(page))) {
      const [target, anchor] = link.split('#') as [string, string | undefined];
      const file = target ? path.normalize(path.join(path.dirname(page), target)) : page;
      if (!fs.existsSync(path.join(projectRoot, file))) {
        broken.push(`${page}: ${link} (no file ${file})`);
        continue;
      }
      if (anchor && file.endsWith('.md') && !anchorsIn(read(file)).has(anchor)) broken.push(`${page}: ${link} (no heading #${anchor} in ${file})`);
    }
  }
  expect(broken).toEqual([]);
});

test('the README states the Node version package.json requires, and names no fixed port', () => {
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
  const readme = read('README.md');
  expect(readme).toContain(engines);
  // Commands must work for any PORT: they read the URL from demo.json or the start banner.
  expect(readme).not.toMatch(/127\.0\.0\.1:4000|localhost:4000/);
});
