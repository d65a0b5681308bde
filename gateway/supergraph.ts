/**
 * The supergraph the gateway serves: the checked-in schema/supergraph.graphql, composed ahead of
 * time (npm run compose) and never introspected from the subgraphs at run time.
 */
import fs from 'node:fs';
import path from 'node:path';
import { schemaDir } from '../core/paths.js';

/**
 * The supergraph as @apollo/gateway loads it. The composed file links `authenticated` and
 * `requiresScopes` `for: SECURITY`, which tells a gateway to refuse the schema unless it enforces
 * them itself. @apollo/gateway does not (Apollo's Router does); here the subgraphs enforce them with
 * graphql-shield, field by field, so the gateway may take these two links as documentation only.
 */
export function supergraphForGateway(sdl: string): string {
  const enforcedBySubgraphs = /@link\(url: "https:\/\/specs\.apollo\.dev\/(authenticated|requiresScopes)\/v[0-9.]+", for: SECURITY\)/g;
  return sdl.replace(enforcedBySubgraphs, (link) => link.replace(', for: SECURITY', ''));
}

/** The checked-in supergraph, ready for @apollo/gateway. */
export function loadSupergraph(): string {
  return supergraphForGateway(fs.readFileSync(path.join(schemaDir, 'supergraph.graphql'), 'utf8'));
}
