/** `npm run compose`: writes schema/supergraph.graphql from the subgraph SDLs, or fails on errors and unaccepted hints. */
import fs from 'node:fs';
import { ACCEPTED_HINTS_FILE, SUPERGRAPH_FILE, composeSupergraph } from '../core/composition.js';

const outcome = composeSupergraph();
for (const error of outcome.errors) console.error(`composition error: ${error}`);
for (const hint of outcome.unacceptedHints) console.error(`composition hint not accepted (${hint.code}): ${hint.message}`);
if (outcome.errors.length || outcome.unacceptedHints.length || !outcome.supergraphSdl) {
  console.error(`\nFix the subgraph SDLs, or accept a hint on purpose by adding it with a reason to ${ACCEPTED_HINTS_FILE}.`);
  process.exit(1);
}
fs.writeFileSync(SUPERGRAPH_FILE, outcome.supergraphSdl.endsWith('\n') ? outcome.supergraphSdl : `${outcome.supergraphSdl}\n`);
console.log(`wrote ${SUPERGRAPH_FILE} (${outcome.hints.length} accepted hint(s))`);
