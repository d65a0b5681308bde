/**
 * The subgraph's direct executor (core/subgraph.ts): the plain queries of a context batch run
 * without Apollo's request pipeline; everything else is left to Apollo (it answers null). That
 * the answers are the same as Apollo's is checked over HTTP in subgraph-batching.test.ts; here,
 * which operations it takes and how it formats what it takes.
 */
import { GraphQLInt, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { createDirectQueryExecutor } from '../core/subgraph.js';
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
