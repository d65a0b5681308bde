/**
 * The portal's API reference as a Vite module: `import('virtual:api-reference')` gives the
 * ApiReference generated from schema/supergraph.graphql and schema/scopes.json at build time (and
 * again whenever either changes under `vite dev`), so the reference the portal shows is always the
 * schema the gateway serves. Only the pages that import it load it: its own chunk.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';
import { schemaDir } from '../../core/paths.js';
import { buildApiReference } from './api-reference.js';
import type { ReferenceScope } from './api-reference-model.js';

export const API_REFERENCE_MODULE = 'virtual:api-reference';
const RESOLVED_ID = `\0${API_REFERENCE_MODULE}`;

export interface ApiReferenceOptions {
  /** Default: schema/supergraph.graphql. */
  supergraphFile?: string;
  /** Default: schema/scopes.json. */
  scopesFile?: string;
}

export function apiReference(options: ApiReferenceOptions = {}): Plugin {
  const supergraphFile = options.supergraphFile ?? path.join(schemaDir, 'supergraph.graphql');
  const scopesFile = options.scopesFile ?? path.join(schemaDir, 'scopes.json');
  return {
    name: 'portico-api-reference',
    resolveId(id) {
      return id === API_REFERENCE_MODULE ? RESOLVED_ID : undefined;
    },
    load(id) {
      if (id !== RESOLVED_ID) return undefined;
      this.addWatchFile(supergraphFile);
      this.addWatchFile(scopesFile);
      const scopes = JSON.parse(fs.readFileSync(scopesFile, 'utf8')) as ReferenceScope[];
      const reference = buildApiReference(fs.readFileSync(supergraphFile, 'utf8'), scopes.map(({ name, description }) => ({ name, description })));
      // JSON.parse of a string literal is parsed faster by browsers than the same object literal.
      return `export default JSON.parse(${JSON.stringify(JSON.stringify(reference))});`;
    },
  };
}
