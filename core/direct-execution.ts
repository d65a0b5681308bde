/**
 * The subgraphs' direct path for plain queries (core/subgraph.ts): the gateway's fetches and the
 * operations of a context batch, run without Apollo Server's request pipeline.
 */
import { GraphQLError, OperationTypeNode, defaultFieldResolver, execute, getOperationAST, isObjectType, parse, specifiedRules, validate, type DocumentNode, type ExecutionResult, type FormattedExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { LRUCache } from 'lru-cache';

/** Valid query operations the direct executor keeps, by their text. */
const DIRECT_DOCUMENTS = 500;
/** How many times an operation runs on graphql-js before it is compiled (see `run`). */
const COMPILE_AFTER_RUNS = 2;

interface DirectOperation {
  document: DocumentNode;
  operationName: string | undefined;
  runs: number;
  /** The compiled operation; null until compiled, false if graphql-jit could not compile it. */
  compiled: CompiledQuery | null | false;
}

/**
 * Runs a query the way Apollo Server would for the subgraph's schema and error formatter, without
 * its HTTP request pipeline (content negotiation, header maps, plugin hooks, a SHA-256 of the
 * query per request): for the many small operations of one context batch, where that pipeline was
 * most of the cost, and for the plain queries of a caller's own request (the gateway's fetches).
 * Only the plain case: a `{ query, variables?, operationName? }` whose document
 * parses, validates against the schema's specified rules and selects a query operation, and whose
 * variables coerce. For anything else it answers null, and the caller takes Apollo's path.
 * Apollo plugins do not run on this path: a plugin added to the subgraphs' ApolloServer must either
 * not matter for these operations or be applied here too.
 */
export function createDirectQueryExecutor<TContext>(
  schema: GraphQLSchema,
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError,
  includeStacktrace: boolean,
) {
  // graphql-jit reads a field without a resolver as a plain property, where graphql-js's default
  // resolver calls a function-valued one (connections' lazy `totalCount`): give every such field
  // graphql-js's default resolver, which changes nothing for graphql-js itself (Apollo's path).
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) field.resolve ??= defaultFieldResolver;
  }
  /** Valid query operations by operation name and query text, compiled once they have run a few times. */
  const operations = new LRUCache<string, DirectOperation>({ max: DIRECT_DOCUMENTS });
  const rejected = new LRUCache<string, true>({ max: DIRECT_DOCUMENTS });
  /** Apollo's normalizeAndFormatErrors: every error gets a code (INTERNAL_SERVER_ERROR unless it has one), then formatError. */
  const format = (error: GraphQLError): GraphQLFormattedError => {
    try {
      // graphql-jit leaves `extensions` undefined on an error that has none.
      const extensions: Record<string, unknown> = { ...error.extensions, code: error.extensions?.code ?? 'INTERNAL_SERVER_ERROR' };
      if (includeStacktrace) extensions.stacktrace = error.stack?.split('\n');
      return formatError({ ...error.toJSON(), extensions }, error);
    } catch {
      return { message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
    }
  };
  /** The operation, parsed and validated once; null for anything the direct path leaves to Apollo (not a query, or a document that does not parse or validate). */
  function operationOf(query: string, operationName: string | undefined): DirectOperation | null {
    const key = `${operationName ?? ''}\n${query}`;
    const found = operations.get(key);
    if (found) return found;
    if (rejected.has(key)) return null;
    let document: DocumentNode;
    try {
      document = parse(query);
    } catch {
      rejected.set(key, true);
      return null;
    }
    if (validate(schema, document, specifiedRules).length || getOperationAST(document, operationName)?.operation !== OperationTypeNode.QUERY) {
      rejected.set(key, true);
      return null;
    }
    const operation: DirectOperation = { document, operationName, runs: 0, compiled: null };
    operations.set(key, operation);
    return operation;
  }
  /**
   * Runs the operation. One that has run COMPILE_AFTER_RUNS times is compiled into a function
   * (graphql-jit) for the many times it will run again: the gateway sends the same few query texts
   * over and over, and graphql-js's execute re-collects every selection and re-reads every field's
   * arguments for each object of each answer, which was the largest share of a subgraph's CPU on
   * the order page. Compiling costs about as much as a few executions, so a query seen once or
   * twice (a developer's ad-hoc one) is only executed.
   */
  function run(operation: DirectOperation, contextValue: TContext, variables: Record<string, unknown> | undefined): ExecutionResult | Promise<ExecutionResult> {
    if (!operation.compiled && ++operation.runs > COMPILE_AFTER_RUNS) {
      const plan = compileQuery(schema, operation.document, operation.operationName, { disablingCapturingStackErrors: !includeStacktrace });
      // What graphql-jit cannot compile keeps running on graphql-js.
      operation.compiled = isCompiledQuery(plan) ? plan : false;
    }
    if (operation.compiled) return operation.compiled.query(undefined, contextValue, variables ?? {});
    return execute({ schema, document: operation.document, variableValues: variables, operationName: operation.operationName, contextValue });
  }
  return async (operation: object, context: () => Promise<TContext>): Promise<string | null> => {
    const { query, variables, operationName, ...rest } = operation as { query?: unknown; variables?: unknown; operationName?: unknown };
    if (typeof query !== 'string' || Object.keys(rest).length) return null;
    if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) return null;
    if (operationName !== undefined && operationName !== null && typeof operationName !== 'string') return null;
    const direct = operationOf(query, operationName ?? undefined);
    if (!direct) return null;
    let result: ExecutionResult;
    try {
      result = await run(direct, await context(), (variables ?? undefined) as Record<string, unknown> | undefined);
    } catch {
      // Not a field's error (those are in the result): Apollo's path answers for it.
      return null;
    }
    // A request error (variables that do not coerce): Apollo's path answers it, with its status.
    if (!('data' in result) || result.data === undefined) return null;
    const formatted: FormattedExecutionResult = {};
    if (result.errors?.length) formatted.errors = result.errors.map(format);
    formatted.data = result.data;
    return JSON.stringify(formatted);
  };
}
