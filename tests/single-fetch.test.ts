/**
 * The message channel sends an entity sub-query straight to a subgraph only when the gateway's own
 * query plan for it is one fetch from that subgraph with nothing to rewrite. Checked here with the
 * real planner on the checked-in supergraph; tests/messages*.test.ts check the answers end to end
 * (a selection within the order subgraph goes straight, one reaching into product goes through the
 * gateway, and both give the same data and errors).
 */
import fs from 'node:fs';
import path from 'node:path';
import { supergraphForGateway } from '../gateway/supergraph.js';
import { createSingleFetchPlanner } from '../messages/subscriptions/single-fetch.js';
import { schemaDir } from '../core/paths.js';

const plan = createSingleFetchPlanner(supergraphForGateway(fs.readFileSync(path.join(schemaDir, 'supergraph.graphql'), 'utf8')));

test('a selection one subgraph answers is one fetch, its aliases and variables kept', () => {
  const single = plan('query PorticoMessageEntities($portico_id0: ID!, $portico_id1: ID!) { e0: order(id: $portico_id0) { id number status __typename } e1: order(id: $portico_id1) { id number __typename } }');
  expect(single).not.toBeNull();
  expect(single!.serviceName).toBe('order');
  expect(single!.operation).toContain('e0:order(id:$portico_id0)');
  expect(single!.operation).toContain('e1:order(id:$portico_id1)');
  expect([...single!.variableUsages].sort()).toEqual(['portico_id0', 'portico_id1']);

  const product = plan('query PorticoMessageEntities($portico_id0: ID!) { e0: product(id: $portico_id0) { title skus { code stock } __typename } }');
  expect(product?.serviceName).toBe('product');
});

test('a selection that reaches into another subgraph is left to the gateway', () => {
  expect(plan('query PorticoMessageEntities($portico_id0: ID!) { e0: order(id: $portico_id0) { number lines { quantity product { title } } __typename } }')).toBeNull();
  expect(plan('query PorticoMessageEntities($portico_id0: ID!) { e0: order(id: $portico_id0) { number merchant { name } __typename } }')).toBeNull();
});

test('subscribers selecting the same fields share one plan (planned once per query text)', () => {
  const query = 'query PorticoMessageEntities($portico_id0: ID!) { e0: order(id: $portico_id0) { number status shippingAddress { city } __typename } }';
  const first = plan(query);
  expect(first?.serviceName).toBe('order');
  expect(plan(query)).toBe(first); // the same plan object: not planned again
  expect(plan(query.replace('status', 'status createdAt'))).not.toBe(first);
});
