/** Composes the four subgraph SDLs into the supergraph (used by `npm run compose` and its staleness test). */
import fs from 'node:fs';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SUBGRAPH_NAMES } from './config.js';
import { schemaDir } from './paths.js';

/** Default subgraph URLs written into the supergraph: the production ports in the README. Runtime overrides them. */
export const DEFAULT_SUBGRAPH_PORTS: Record<(typeof SUBGRAPH_NAMES)[number], number> = {
  order: 4101,
  product: 4102,
  account: 4103,
  'app-management': 4104,
};

export const SUPERGRAPH_FILE = path.join(schemaDir, 'supergraph.graphql');
/** Composition hints we looked at and accept, each with the reason; any other hint fails the build. */
export const ACCEPTED_HINTS_FILE = path.join(schemaDir, 'accepted-hints.json');

export interface CompositionOutcome {
  supergraphSdl?: string;
  errors: string[];
  hints: { code: string; message: string }[];
  unacceptedHints: { code: string; message: string }[];
}

export function composeSupergraph(): CompositionOutcome {
  const result = composeServices(
    SUBGRAPH_NAMES.map((name) => ({
      name,
      url: `http://127.0.0.1:${DEFAULT_SUBGRAPH_PORTS[name]}/graphql`,
      typeDefs: parse(fs.readFileSync(path.join(schemaDir, `${name}.graphql`), 'utf8')),
    })),
  );
  const hints = (result.hints ?? []).map((h) => ({ code: h.definition.code, message: h.message }));
  const accepted: { code: string; message: string; reason: string }[] = fs.existsSync(ACCEPTED_HINTS_FILE)
    ? JSON.parse(fs.readFileSync(ACCEPTED_HINTS_FILE, 'utf8'))
    : [];
  const unacceptedHints = hints.filter((h) => !accepted.some((a) => a.code === h.code && a.message === h.message));
  if (result.errors) return { errors: result.errors.map((e) => e.message), hints, unacceptedHints };
  return { supergraphSdl: result.supergraphSdl, errors: [], hints, unacceptedHints };
}
