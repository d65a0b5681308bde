/**
 * The GraphQL engine behind /graphql: @apollo/gateway plans and executes each operation over the
 * subgraphs (through the gateway's own data sources), inside an Apollo Server that carries the
 * pipeline's Apollo plugins and validation rules.
 */
import { createRequire } from 'node:module';
import './flat-federation-exports.js';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLDataSource } from '@apollo/gateway';
import type { FormattedExecutionResult, GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { Config } from '../core/config.js';
import { createErrorFormatter } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { applyScalarParsing } from '../core/scalars.js';
import { graphqlOverHttpStatus } from './graphql-over-http.js';
import type { Pipeline } from './pipeline.js';
import { parseTokenLimit } from './plugins/query-limits.js';
import type { GatewayContext } from './plugins/types.js';

// Required here, not imported: Node runs the CommonJS modules an ES module imports before that
// module's ES imports, and flat-federation-exports.js must run before @apollo/gateway loads.
const { ApolloGateway } = createRequire(import.meta.url)('@apollo/gateway') as typeof import('@apollo/gateway');

export interface GatewayApollo {
  apollo: ApolloServer<GatewayContext>;
  /** The API schema (the supergraph's public part), once loaded. */
  schema(): GraphQLSchema;
  /** How errors reach clients (masked outside development), for the message channel's results too. */
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
}

export async function startApollo(options: {
  config: Config;
  logger: Logger;
  supergraphSdl: string;
  dataSourceFor(serviceName: string): GraphQLDataSource<GatewayContext>;
  pipeline: Pipeline;
  /** Apollo plugins of other parts of the gateway (the message channel's). */
  plugins?: ApolloServerPlugin<GatewayContext>[];
}): Promise<GatewayApollo> {
  const { config, logger, pipeline } = options;
  // @apollo/gateway (2.10 and later) otherwise starts "data collection" of its own: an OpenTelemetry
  // exporter that probes cloud metadata endpoints (AWS, GCP, Azure, Alibaba) at start and sends
  // host metrics to usage-reporting.api.apollographql.com every hour and at shutdown. The platform
  // makes no outbound call its operator did not configure; APOLLO_TELEMETRY_DISABLED=false opts in.
  if (process.env.APOLLO_TELEMETRY_DISABLED === undefined) process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ name }) => options.dataSourceFor(name),
    logger: logger.child({ service: 'gateway' }) as never,
  });
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate((update) => {
    applyScalarParsing(update.apiSchema);
    apiSchema = update.apiSchema;
  });
  const formatError = createErrorFormatter({
    development: config.development,
    onInternalError: (error) => logger.error({ err: error }, 'unexpected error'),
  });
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    introspection: true,
    // Shutdown is ours (SIGTERM stops the gateway first, then subgraphs, then the database).
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: config.development,
    formatError,
    // The token limit is the parser's: a document past it is a syntax error (GRAPHQL_PARSE_FAILED).
    parseOptions: parseTokenLimit(),
    // Compact JSON: Apollo's default indents every response, which costs CPU on every page (kept for development).
    ...(config.development ? {} : { stringifyResult: (result: FormattedExecutionResult) => JSON.stringify(result) }),
    plugins: [
      ApolloServerPluginCacheControlDisabled(),
      ...(config.development ? [] : [ApolloServerPluginLandingPageDisabled()]),
      graphqlOverHttpStatus(),
      ...pipeline.apolloPlugins,
      ...(options.plugins ?? []),
    ],
    validationRules: [...pipeline.validationRules],
  });
  await apollo.start();
  return {
    apollo,
    schema: () => {
      if (!apiSchema) throw new Error('the gateway has not loaded its schema yet');
      return apiSchema;
    },
    formatError,
  };
}
