/**
 * Entity fetch deduplication. @apollo/gateway sends one representation per entity occurrence: an
 * order page of 50 orders of one merchant asks the account subgraph for the same merchant 50 times,
 * and for each product as often as it appears in a line. The data source sends each distinct
 * representation once and hands the gateway back the answer it would have had without that: one
 * `_entities` entry per representation it asked for (each its own copy, since the gateway merges
 * into them) and each error about an entity repeated at every position of that entity. The Apollo
 * Router does the same (its entity deduplication).
 */

import type { GraphQLFormattedError } from 'graphql';

/** Which distinct representation each requested one is; null when every representation is distinct. */
export interface RepresentationDedupe {
  /** The distinct representations, in order of first occurrence. */
  readonly unique: unknown[];
  /** For each requested position, the index of its representation in `unique`. */
  readonly uniqueIndexOf: number[];
  /** For each distinct representation, the requested positions it stands for. */
  readonly positionsOf: number[][];
}

export function dedupeRepresentations(representations: readonly unknown[]): RepresentationDedupe | null {
  if (representations.length < 2) return null;
  const indexByKey = new Map<string, number>();
  const unique: unknown[] = [];
  const uniqueIndexOf: number[] = new Array(representations.length);
  const positionsOf: number[][] = [];
  for (let i = 0; i < representations.length; i++) {
    // The gateway builds every representation of a fetch from the same selection, so equal entities
    // serialize to equal keys (same fields, same order).
    const key = JSON.stringify(representations[i]);
    let index = indexByKey.get(key);
    if (index === undefined) {
      index = unique.length;
      indexByKey.set(key, index);
      unique.push(representations[i]);
      positionsOf.push([i]);
    } else {
      positionsOf[index]!.push(i);
    }
    uniqueIndexOf[i] = index;
  }
  return unique.length === representations.length ? null : { unique, uniqueIndexOf, positionsOf };
}

interface SubgraphResponse {
  data?: Record<string, unknown> | null;
  errors?: readonly GraphQLFormattedError[];
}

/**
 * The answer to the deduplicated fetch, spread back over the positions the gateway asked for. An
 * answer that is not what a deduplicated `_entities` fetch returns (no data, a list of another
 * length) is handed back as it came: the gateway's own checks then report it.
 */
export function expandEntities<T extends SubgraphResponse>(response: T, dedupe: RepresentationDedupe): T {
  const entities = response.data?._entities;
  if (!Array.isArray(entities) || entities.length !== dedupe.unique.length) return response;
  const expanded: unknown[] = new Array(dedupe.uniqueIndexOf.length);
  const handedOut = new Array<boolean>(entities.length).fill(false);
  for (let i = 0; i < expanded.length; i++) {
    const index = dedupe.uniqueIndexOf[i]!;
    // The first position gets the entity itself, the others their own copies: the gateway merges
    // later fetches into these objects and must not see one position's data at another.
    expanded[i] = handedOut[index] ? cloneJson(entities[index]) : entities[index];
    handedOut[index] = true;
  }
  let errors = response.errors;
  if (errors) {
    // Each error about an entity at every position of that entity, in order of position, as the
    // subgraph would have listed them had it been asked for every position; other errors first.
    const placed: { position: number; error: GraphQLFormattedError }[] = [];
    for (const error of errors) {
      const path = error.path;
      const positions = path && path[0] === '_entities' && typeof path[1] === 'number' ? dedupe.positionsOf[path[1]] : undefined;
      if (!positions) {
        placed.push({ position: -1, error });
        continue;
      }
      for (const position of positions) placed.push({ position, error: { ...error, path: ['_entities', position, ...path!.slice(2)] } });
    }
    errors = placed.sort((a, b) => a.position - b.position).map(({ error }) => error);
  }
  return { ...response, data: { ...response.data, _entities: expanded }, ...(errors ? { errors } : {}) };
}

/** A deep copy of a JSON value (what a subgraph's parsed answer holds). */
function cloneJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(cloneJson);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) copy[key] = cloneJson((value as Record<string, unknown>)[key]);
  return copy;
}
