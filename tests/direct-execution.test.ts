/**
 * The subgraph's direct executor (core/subgraph.ts): the plain queries of a context batch run
 * without Apollo's request pipeline; everything else is left to Apollo (it answers null). That
 * the answers are the same as Apollo's is checked over HTTP in subgraph-batching.test.ts; here,
 * which operations it takes and how it formats what it takes.
 */
import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { createDirectQueryExecutor } from '../core/direct-execution.js';
import { createErrorFormatter, forbidden } from '../core/errors.js';

const seen: unknown[] = [];
const schema = new GraphQLSchema({
  query: new GraphQLObjectType({
    name: 'Query',
    fields: {
      twice: { type: GraphQLInt, args: { n: { type: new GraphQLNonNull(GraphQLInt) } }, resolve: (_s, { n }: { n: number }, context: { id: string }) => (seen.push(context.id), n * 2) },
      secret: { type: GraphQLString, resolve: () => Promise.reject(forbidden('not yours')) },
      broken: { type: GraphQLString, resolve: () => Promise.reject(new Error('password=hunter2 in SELECT')) },
    },
  }),
  mutation: new GraphQLObjectType({ name: 'Mutation', fields: { touch: { type: GraphQLInt, resolve: () => 1 } } }),
});
const internal: unknown[] = [];
const direct = createDirectQueryExecutor(schema, createErrorFormatter({ development: false, onInternalError: (e) => internal.push(e) }), false);
const context = (id: string) => async () => ({ id });

test('a valid query runs with its own context; field errors keep their code and path, unexpected ones are masked', async () => {
  const body = await direct({ query: 'query($n: Int!) { twice(n: $n) secret broken }', variables: { n: 21 } }, context('caller-1'));
  expect(body).not.toBeNull();
  const result = JSON.parse(body!) as { data: unknown; errors: { message: string; path: string[]; extensions: { code: string } }[] };
  expect(result.data).toEqual({ twice: 42, secret: null, broken: null });
  expect(result.errors.map((e) => [e.path, e.extensions.code])).toEqual([
    [['secret'], 'FORBIDDEN'],
    [['broken'], 'INTERNAL_SERVER_ERROR'],
  ]);
  expect(result.errors[0]!.message).toBe('not yours');
  expect(body).not.toContain('hunter2');
  expect(internal).toHaveLength(1);
  expect(seen).toEqual(['caller-1']);
  // The second time the document comes from the cache, and still gets its own context.
  expect(JSON.parse((await direct({ query: 'query($n: Int!) { twice(n: $n) secret broken }', variables: { n: 1 } }, context('caller-2')))!).data.twice).toBe(2);
  expect(seen).toEqual(['caller-1', 'caller-2']);
});

test('anything but a plain valid query is left to Apollo, and nothing of it runs', async () => {
  seen.length = 0;
  const leftToApollo = [
    { query: 'mutation { touch }' },
    { query: '{ nope }' },
    { query: '{ twice(n: ' },
    { query: 'query($n: Int!) { twice(n: $n) }', variables: { n: 'many' } },
    { query: 'query($n: Int!) { twice(n: $n) }' },
    { query: 'query A { twice(n: 1) } query B { twice(n: 2) }' },
    { query: 'query A { twice(n: 1) }', operationName: 'B' },
    { query: '{ twice(n: 1) }', extensions: { persistedQuery: { version: 1, sha256Hash: 'x' } } },
    { query: '{ twice(n: 1) }', variables: [1] },
    { query: 42 },
    {},
  ];
  for (const operation of leftToApollo) expect(await direct(operation, context('x'))).toBeNull();
  expect(seen).toEqual([]);
  // A document refused once is refused again from the cache.
  expect(await direct({ query: '{ nope }' }, context('x'))).toBeNull();
  expect(await direct({ query: 'query A { twice(n: 1) } query B { twice(n: 2) }', operationName: 'B' }, context('y'))).toBe('{"data":{"twice":4}}');
  expect(seen).toEqual(['y']);
});

test('an operation that keeps coming is compiled after its first runs, and answers exactly as before', async () => {
  seen.length = 0;
  const schemaWithLists = new GraphQLSchema({
    query: new GraphQLObjectType({
      name: 'Query',
      fields: {
        page: {
          type: new GraphQLObjectType({
            name: 'Page',
            fields: {
              // A function-valued property, as connections' lazy totalCount: graphql-js's default resolver calls it.
              totalCount: { type: GraphQLInt },
              items: { type: new GraphQLNonNull(GraphQLString) },
            },
          }),
          args: { n: { type: GraphQLInt } },
          resolve: (_s, { n }: { n: number | null }, context: { id: string }) => (seen.push(context.id), { totalCount: () => n ?? 0, items: `${n ?? 0} items` }),
        },
        secret: { type: GraphQLString, resolve: () => Promise.reject(forbidden('not yours')) },
        broken: { type: GraphQLString, resolve: () => Promise.reject(new Error('password=hunter2 in SELECT')) },
      },
    }),
  });
  const masked: unknown[] = [];
  const run = createDirectQueryExecutor(schemaWithLists, createErrorFormatter({ development: false, onInternalError: (e) => masked.push(e) }), false);
  const query = 'query($n: Int) { page(n: $n) { totalCount items } secret broken }';
  const answers: string[] = [];
  for (let i = 0; i < 5; i++) answers.push((await run({ query, variables: { n: 3 } }, context(`run-${i}`)))!);
  expect(new Set(answers).size).toBe(1);
  expect(JSON.parse(answers[0]!)).toEqual({
    errors: [
      { message: 'not yours', locations: [{ line: 1, column: 51 }], path: ['secret'], extensions: { code: 'FORBIDDEN' } },
      { message: 'Internal server error', locations: [{ line: 1, column: 58 }], path: ['broken'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    ],
    data: { page: { totalCount: 3, items: '3 items' }, secret: null, broken: null },
  });
  expect(masked).toHaveLength(5);
  expect(seen).toEqual(['run-0', 'run-1', 'run-2', 'run-3', 'run-4']);
  // Variables that do not coerce are still left to Apollo, compiled or not.
  expect(await run({ query, variables: { n: 'many' } }, context('bad'))).toBeNull();
});
