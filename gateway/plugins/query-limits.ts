/**
 * Limits on the shape of a query, checked before it is planned, so one request cannot make the
 * gateway and subgraphs do unbounded work: depth, aliases, directives and a static cost
 * (graphql-armor). The limits sit well above what real pages need (the ISV order page is depth 6).
 * The token limit is the parser's own (`parseTokenLimit`, graphql-js `maxTokens`): a document past it
 * fails to parse like any other syntax error (GRAPHQL_PARSE_FAILED, 400), where graphql-armor's
 * token plugin threw out of Apollo's parsing hook and turned every syntax error into a 500.
 * Field suggestions ("Did you mean ...") are removed from every error outside development by the
 * error formatter (core/errors.ts), so validation over HTTP, WebSocket and SSE all lose them.
 */
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { ApolloServerPlugin } from '@apollo/server';
import type { GatewayContext, GatewayPlugin } from './types.js';

export const QUERY_LIMITS = {
  maxDepth: 12,
  maxAliases: 30,
  maxDirectives: 50,
  maxTokens: 3000,
  maxCost: 20_000,
} as const;

export function useQueryLimits(limits = QUERY_LIMITS): GatewayPlugin {
  const protection = new ApolloArmor({
    maxDepth: { n: limits.maxDepth },
    // Every alias counts, `__typename` ones too: graphql-armor exempts them by default, and a
    // thousand aliases of __typename cost the gateway as much as any other field.
    maxAliases: { n: limits.maxAliases, allowList: [] },
    maxDirectives: { n: limits.maxDirectives },
    maxTokens: { enabled: false },
    costLimit: { maxCost: limits.maxCost },
    blockFieldSuggestion: { enabled: false },
  }).protect();
  return {
    name: 'query-limits',
    apolloPlugins: protection.plugins as ApolloServerPlugin<GatewayContext>[],
    validationRules: protection.validationRules,
  };
}

/** Apollo's parse options for the gateway: the token limit enforced by the parser itself. */
export const parseTokenLimit = (limits = QUERY_LIMITS) => ({ maxTokens: limits.maxTokens });
