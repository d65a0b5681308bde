/**
 * The portal's API reference, generated from the supergraph: what it shows (and leaves out) for a
 * small schema written here, and, for the real schema, that it agrees with apiCatalog and that every
 * example it gives is an operation the gateway's API schema accepts. No platform: a pure function.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import { buildASTSchema, parse, validate } from 'graphql';
import { schemaDir } from '../core/paths.js';
import { supergraphForGateway } from '../gateway/supergraph.js';
import { readApiCatalog } from '../subgraphs/app-management/api-catalog.js';
import { buildApiReference } from '../web/plugins/api-reference.js';
import type { ApiReference, ReferenceField } from '../web/plugins/api-reference-model.js';
import { API_REFERENCE_MODULE, apiReference } from '../web/plugins/reference.js';
import { coordinatesOf as fieldsOfDocument } from '../web/src/pages/explorer/query-coordinates.js';

const FIXTURE = `
directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE

schema { query: Query mutation: Mutation }

scalar DateTime
scalar join__FieldSet
enum join__Graph { SHOP @join__graph(name: "shop", url: "http://shop") }

"What an app may read."
type Query {
  "The shop's orders, newest first."
  orders(first: Int = 20, after: String): OrderConnection! @requiresScopes(scopes: [["orders:read"]]) @listSize(slicingArguments: ["first"], sizedFields: ["nodes"], requireOneSlicingArgument: false)
  order(id: ID!): Order @requiresScopes(scopes: [["orders:read"]])
  secretThing: Secret @inaccessible @authenticated
  serviceOnly(key: String!): String @requiresScopes(scopes: [["internal"]])
  events: [Event!]! @authenticated @listSize(assumedSize: 3)
}

type Mutation {
  cancelOrder(input: CancelOrderInput!): Order @requiresScopes(scopes: [["orders:write"], ["operator"]]) @cost(weight: 10)
}

type OrderConnection @authenticated {
  nodes: [Order!]!
  totalCount: Int!
}

type Order @requiresScopes(scopes: [["orders:read"]]) {
  id: ID!
  status: OrderStatus!
  legacyNumber: String @deprecated(reason: "Use number.")
  number: String!
  "Personal data."
  shippingAddress: Address @requiresScopes(scopes: [["orders:read_pii"]])
  internalNote: String @inaccessible
  lines(first: Int = 10 @cost(weight: 2), hiddenFilter: String @inaccessible): [Line!]! @listSize(slicingArguments: ["first"])
}

type Address @authenticated { name: String phone: String }
type Line @authenticated { sku: String! quantity: Int! }
type Secret @inaccessible @authenticated { value: String }

interface Event @authenticated { id: ID! occurredAt: DateTime! }
type ShipmentEvent implements Event @authenticated { id: ID! occurredAt: DateTime! carrier: String! }

enum OrderStatus { PAID SHIPPED LIMBO @inaccessible }

input CancelOrderInput {
  orderId: ID!
  reason: String
  legacyFlag: Boolean @inaccessible
}
`;

const fieldOf = (reference: ApiReference, coordinate: string): ReferenceField => {
  const field = reference.types.flatMap((t) => t.fields).find((f) => f.coordinate === coordinate);
  if (!field) throw new Error(`${coordinate} is not in the reference`);
  return field;
};
const coordinatesOf = (reference: ApiReference) => reference.types.flatMap((t) => t.fields.map((f) => f.coordinate));

describe('the reference of a small schema', () => {
  const reference = buildApiReference(FIXTURE, [{ name: 'orders:read', description: 'Read orders.' }]);
  const fixtureSchema = buildASTSchema(parse(FIXTURE), { assumeValidSDL: true });

  test('lists the public types, roots first, and leaves out @inaccessible ones and federation machinery', () => {
    expect(reference.types.map((t) => t.name)).toEqual(['Query', 'Mutation', 'Address', 'CancelOrderInput', 'DateTime', 'Event', 'Line', 'Order', 'OrderConnection', 'OrderStatus', 'ShipmentEvent']);
    expect(reference.types.find((t) => t.name === 'Query')).toMatchObject({ kind: 'OBJECT', root: true, description: 'What an app may read.' });
    expect(reference.types.find((t) => t.name === 'OrderStatus')!.enumValues.map((v) => v.name)).toEqual(['PAID', 'SHIPPED']);
    expect(reference.types.find((t) => t.name === 'Event')).toMatchObject({ kind: 'INTERFACE', possibleTypes: ['ShipmentEvent'] });
    expect(reference.types.find((t) => t.name === 'ShipmentEvent')).toMatchObject({ interfaces: ['Event'] });
    expect(reference.scopes).toEqual([{ name: 'orders:read', description: 'Read orders.' }]);
  });

  test('leaves out @inaccessible fields, arguments and input fields, and fields only the platform itself may call', () => {
    const coordinates = coordinatesOf(reference);
    expect(coordinates).not.toContain('Query.secretThing');
    expect(coordinates).not.toContain('Query.serviceOnly');
    expect(coordinates).not.toContain('Order.internalNote');
    expect(coordinates).not.toContain('CancelOrderInput.legacyFlag');
    expect(coordinates).toEqual(expect.arrayContaining(['Query.orders', 'Order.shippingAddress', 'CancelOrderInput.orderId', 'CancelOrderInput.reason']));
    expect(fieldOf(reference, 'Order.lines').arguments.map((a) => a.name)).toEqual(['first']);
  });

  test('gives each field the scopes of its type and its own together, as the subgraphs enforce them', () => {
    expect(fieldOf(reference, 'Order.id').requiredScopes).toEqual([['orders:read']]);
    expect(fieldOf(reference, 'Order.shippingAddress').requiredScopes).toEqual([['orders:read', 'orders:read_pii']]);
    expect(fieldOf(reference, 'Mutation.cancelOrder').requiredScopes).toEqual([['orders:write'], ['operator']]);
    expect(fieldOf(reference, 'Address.name').requiredScopes).toEqual([]);
    expect(fieldOf(reference, 'CancelOrderInput.orderId').requiredScopes).toBeNull();
  });

  test('gives descriptions, types, arguments with defaults, deprecations and costs', () => {
    expect(fieldOf(reference, 'Query.orders')).toMatchObject({
      description: 'The shop\'s orders, newest first.',
      type: 'OrderConnection!',
      typeName: 'OrderConnection',
      arguments: [
        { name: 'first', type: 'Int', defaultValue: '20', cost: null, deprecationReason: null },
        { name: 'after', type: 'String', defaultValue: null },
      ],
      cost: { weight: 1, declared: false, listSize: { slicingArguments: ['first'], sizedFields: ['nodes'] } },
      deprecationReason: null,
    });
    expect(fieldOf(reference, 'Order.legacyNumber').deprecationReason).toBe('Use number.');
    expect(fieldOf(reference, 'Mutation.cancelOrder').cost).toEqual({ weight: 10, declared: true });
    expect(fieldOf(reference, 'Order.status').cost).toEqual({ weight: 0, declared: false });
    expect(fieldOf(reference, 'Order.lines').arguments[0]).toMatchObject({ name: 'first', defaultValue: '10', cost: 2 });
    expect(fieldOf(reference, 'Query.events').cost).toEqual({ weight: 1, declared: false, listSize: { assumedSize: 3, slicingArguments: [], sizedFields: [] } });
  });

  test('writes an example for every output field: required arguments as variables, a small page, the gateway\'s cost of it', () => {
    const orders = fieldOf(reference, 'Query.orders').example!;
    expect(parse(orders.query)).toBeDefined();
    expect(orders.query.replace(/\s+/g, ' ')).toBe('query QueryOrders { orders(first: 5) { totalCount nodes { id status number } } }');
    expect(orders.variables).toEqual({});
    // orders 1, plus 5 nodes of 1 each; scalars weigh nothing.
    expect(orders.cost).toBe(6);

    const lines = fieldOf(reference, 'Order.lines').example!;
    expect(lines.query.replace(/\s+/g, ' ')).toBe('query OrderLines($id: ID!) { order(id: $id) { lines(first: 5) { sku quantity } } }');
    expect(lines.variables).toEqual({ id: 'id-1' });
    // order 1, the `first` argument's @cost 2, 5 lines of 1.
    expect(lines.cost).toBe(8);

    const cancel = fieldOf(reference, 'Mutation.cancelOrder').example!;
    expect(cancel.query).toMatch(/^mutation MutationCancelOrder\(\$input: CancelOrderInput!\)/);
    expect(cancel.variables).toEqual({ input: { orderId: 'orderId-1' } });
    // A mutation itself weighs 10, cancelOrder's @cost 10.
    expect(cancel.cost).toBe(20);

    const carrier = fieldOf(reference, 'ShipmentEvent.carrier').example!;
    expect(carrier.query.replace(/\s+/g, ' ')).toBe('query ShipmentEventCarrier { events { ... on ShipmentEvent { carrier } } }');
    expect(carrier.cost).toBe(3);

    for (const type of reference.types.filter((t) => t.kind === 'OBJECT' || t.kind === 'INTERFACE')) {
      for (const field of type.fields) {
        expect(field.example).toBeDefined();
        expect(validate(fixtureSchema, parse(field.example!.query))).toEqual([]);
        expect(field.example!.query).not.toMatch(/secretThing|internalNote|serviceOnly|LIMBO|legacyFlag/);
        // A deprecated field is in its own example only.
        if (field.coordinate !== 'Order.legacyNumber') expect(field.example!.query).not.toMatch(/legacyNumber/);
      }
    }
    expect(fieldOf(reference, 'CancelOrderInput.orderId').example).toBeUndefined();
  });
});

describe('the reference of the platform\'s supergraph', () => {
  const supergraphFile = path.join(schemaDir, 'supergraph.graphql');
  const sdl = fs.readFileSync(supergraphFile, 'utf8');
  const scopes = JSON.parse(fs.readFileSync(path.join(schemaDir, 'scopes.json'), 'utf8')) as { name: string; description: string }[];
  let reference: ApiReference;
  beforeAll(() => {
    reference = buildApiReference(sdl, scopes);
  });

  test('holds every field apiCatalog lists, with the same scopes, except those only the platform itself may call', () => {
    const catalog = readApiCatalog(supergraphFile);
    const byCoordinate = new Map(reference.types.filter((t) => t.kind === 'OBJECT').flatMap((t) => t.fields.map((f) => [f.coordinate, f] as const)));
    for (const entry of catalog) {
      const field = byCoordinate.get(entry.coordinate);
      if (field) expect([entry.coordinate, field.requiredScopes]).toEqual([entry.coordinate, entry.requirement.anyOf]);
      else expect([entry.coordinate, entry.requirement.anyOf.every((all) => all.includes('internal'))]).toEqual([entry.coordinate, true]);
    }
    const listed = new Set(catalog.map((c) => c.coordinate));
    expect([...byCoordinate.keys()].filter((c) => !listed.has(c))).toEqual([]);
    expect(byCoordinate.size).toBeGreaterThan(300);
    expect(byCoordinate.has('Query.oauthClient')).toBe(false);
    expect(reference.types.filter((t) => /^(join__|link__|requiresScopes__)/.test(t.name))).toEqual([]);
  });

  test('gives every output field an example the API schema accepts', () => {
    const apiSchema = Supergraph.build(supergraphForGateway(sdl)).apiSchema().toGraphQLJSSchema();
    let examples = 0;
    for (const type of reference.types) {
      for (const field of type.fields) {
        if (type.kind === 'INPUT_OBJECT') continue;
        expect([field.coordinate, !!field.example]).toEqual([field.coordinate, true]);
        const errors = validate(apiSchema, parse(field.example!.query)).map((e) => e.message);
        expect([field.coordinate, errors]).toEqual([field.coordinate, []]);
        expect(field.example!.cost).toBeGreaterThanOrEqual(0);
        examples++;
      }
    }
    expect(examples).toBeGreaterThan(300);
  });

  test('shows the app scopes with their descriptions, and reads @listSize and @cost as the gateway does', () => {
    expect(reference.scopes.find((s) => s.name === 'orders:read_pii')?.description).toMatch(/personal data/);
    expect(fieldOf(reference, 'Query.orders').cost.listSize).toEqual({ slicingArguments: ['first'], sizedFields: ['edges', 'nodes'] });
    expect(fieldOf(reference, 'Mutation.placeOrder').cost).toMatchObject({ weight: 10, declared: true });
    expect(fieldOf(reference, 'Order.shippingAddress').requiredScopes).toEqual([['orders:read', 'orders:read_pii']]);
  });
});

describe('the Vite plugin', () => {
  test('serves the reference of the checked-in schema as virtual:api-reference and watches both files', async () => {
    const plugin = apiReference();
    const resolveId = plugin.resolveId as (id: string) => string | undefined;
    const load = plugin.load as (this: { addWatchFile(file: string): void }, id: string) => string | undefined;
    const resolved = resolveId(API_REFERENCE_MODULE)!;
    expect(resolveId('./somewhere-else')).toBeUndefined();
    const watched: string[] = [];
    const code = load.call({ addWatchFile: (file) => watched.push(file) }, resolved)!;
    expect(watched).toEqual([path.join(schemaDir, 'supergraph.graphql'), path.join(schemaDir, 'scopes.json')]);
    const module = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as { default: ApiReference };
    const scopes = JSON.parse(fs.readFileSync(path.join(schemaDir, 'scopes.json'), 'utf8')) as { name: string; description: string }[];
    expect(module.default).toEqual(buildApiReference(fs.readFileSync(path.join(schemaDir, 'supergraph.graphql'), 'utf8'), scopes.map(({ name, description }) => ({ name, description }))));
  });
});

describe("the explorer's fields of a document", () => {
  const schema = buildASTSchema(parse(FIXTURE), { assumeValidSDL: true });

  test('are the coordinates it selects, through fragments, in the order they appear, without __typename', () => {
    const query = `query Q($id: ID!) {
      order(id: $id) { id __typename ...Ship lines { sku } }
      events { id ... on ShipmentEvent { carrier } }
    }
    fragment Ship on Order { shippingAddress { name } status }`;
    expect(fieldsOfDocument(schema, query)).toEqual([
      'Query.order', 'Order.id', 'Order.lines', 'Line.sku', 'Query.events', 'Event.id', 'ShipmentEvent.carrier',
      'Order.shippingAddress', 'Address.name', 'Order.status',
    ]);
  });

  test('are none while the document does not parse (half typed)', () => {
    expect(fieldsOfDocument(schema, '{ order(id: "1") { id ')).toEqual([]);
  });
});
