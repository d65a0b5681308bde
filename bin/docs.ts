/**
 * `npm run docs`: writes docs/configuration.md from core/config.ts's option table. Run it after
 * adding or changing an option; tests/docs.test.ts fails while the checked-in page is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CONFIGURATION_REFERENCE_PATH, renderConfigurationReference } from '../core/config-reference.js';
import { projectRoot } from '../core/paths.js';

const file = path.join(projectRoot, CONFIGURATION_REFERENCE_PATH);
const page = renderConfigurationReference();
const previous = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
if (previous === page) {
  console.log(`${CONFIGURATION_REFERENCE_PATH} is up to date`);
} else {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, page);
  console.log(`wrote ${CONFIGURATION_REFERENCE_PATH}`);
}
