/**
 * Limits on the shape of a query, checked before it is planned, so one request cannot make the
 * gateway and subgraphs do unbounded work: depth, aliases, directives, tokens and a static cost
 * (graphql-armor). The limits sit well above what real pages need (the ISV order page is depth 6).
 * Field suggestions in validation errors stay on: the schema is public and introspectable anyway.
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
    maxAliases: { n: limits.maxAliases },
    maxDirectives: { n: limits.maxDirectives },
    maxTokens: { n: limits.maxTokens },
    costLimit: { maxCost: limits.maxCost },
    blockFieldSuggestion: { enabled: false },
  }).protect();
  return {
    name: 'query-limits',
    apolloPlugins: protection.plugins as ApolloServerPlugin<GatewayContext>[],
    validationRules: protection.validationRules,
  };
}
