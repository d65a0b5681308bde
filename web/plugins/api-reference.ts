/**
 * The API reference, generated from the composed supergraph so it never goes stale: every public
 * type and field (no @inaccessible part, nothing only the platform's own services may call) with its
 * description, arguments, the scopes it needs, what it costs, its deprecation and an example
 * operation that reaches it.
 *
 * The scopes are read by core/permissions.ts's requirementOf, the code the subgraphs enforce them
 * with and apiCatalog lists them with; the costs by the gateway's own readSchemaCosts, and each
 * example's cost is the gateway's estimate for it (gateway/cost/calculator.ts), so the page says
 * what flow control will charge.
 */
import {
  Kind,
  OperationTypeNode,
  buildASTSchema,
  getNamedType,
  getNullableType,
  isCompositeType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isSpecifiedScalarType,
  isUnionType,
  parse,
  print,
  type ConstDirectiveNode,
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
} from 'graphql';
import { requirementOf } from '../../core/permissions.js';
import { createCostCalculator } from '../../gateway/cost/calculator.js';
import { readSchemaCosts, type SchemaCosts } from '../../gateway/cost/schema-costs.js';
import type {
  ApiReference,
  ReferenceArgument,
  ReferenceCost,
  ReferenceExample,
  ReferenceField,
  ReferenceScope,
  ReferenceType,
  RequiredScopes,
} from './api-reference-model.js';

/** The scope of the platform's own service-to-service calls: never part of the public API. */
const INTERNAL_SCOPE = 'internal';
/** Federation's and the link spec's own types, which composition writes into the supergraph. */
const MACHINERY_PREFIXES = ['__', 'join__', 'link__', 'requiresScopes__'];
/** How many items an example asks a list for: enough to see the shape, cheap to run. */
const EXAMPLE_PAGE_SIZE = 5;
/** Scalar fields an example selects on an object, when it has them (else its first few). */
const PREFERRED_LEAVES = ['id', 'key', 'name', 'title', 'status', 'createdAt'];
const MAX_LEAVES = 4;
/** A fixed instant for DateTime example values: the reference is the same on every build. */
const EXAMPLE_INSTANT = '2026-01-01T00:00:00Z';

const hidden = (directives: readonly ConstDirectiveNode[] | undefined) => directives?.some((d) => d.name.value === 'inaccessible') ?? false;
const deprecationOf = (directives: readonly ConstDirectiveNode[] | undefined): string | null => {
  const directive = directives?.find((d) => d.name.value === 'deprecated');
  if (!directive) return null;
  const reason = directive.arguments?.find((a) => a.name.value === 'reason')?.value;
  return reason?.kind === Kind.STRING ? reason.value : 'No longer supported';
};

type Field = GraphQLField<unknown, unknown>;
type Step = { kind: 'field'; parent: GraphQLCompositeType; field: Field } | { kind: 'fragment'; on: GraphQLObjectType };
interface Route {
  operation: OperationTypeNode;
  steps: Step[];
}

/** The schema as the reference shows it: only its public fields and arguments. */
interface PublicSchema {
  schema: GraphQLSchema;
  costs: SchemaCosts;
  isPublicType(type: GraphQLNamedType): boolean;
  fieldsOf(type: GraphQLCompositeType): Field[];
  argumentsOf(field: Field): GraphQLArgument[];
  requiredArguments(field: Field): GraphQLArgument[];
}

export function buildApiReference(supergraphSdl: string, scopes: ReferenceScope[] = []): ApiReference {
  const document = parse(supergraphSdl);
  const schema = buildASTSchema(document, { assumeValidSDL: true });
  const costs = readSchemaCosts(document);
  const calculator = createCostCalculator(costs);
  const roots = new Map<string, OperationTypeNode>();
  for (const operation of [OperationTypeNode.QUERY, OperationTypeNode.MUTATION, OperationTypeNode.SUBSCRIPTION]) {
    const root = schema.getRootType(operation);
    if (root) roots.set(root.name, operation);
  }

  const isPublicType = (type: GraphQLNamedType) => !MACHINERY_PREFIXES.some((p) => type.name.startsWith(p)) && !hidden(type.astNode?.directives);
  // GraphQL's own scalars (String, Int...) are in every schema: the reference is about this one.
  const isDocumented = (type: GraphQLNamedType) => isPublicType(type) && !isSpecifiedScalarType(type);
  const requirementOfField = (parent: GraphQLNamedType, field: Field): RequiredScopes =>
    requirementOf(parent.astNode?.directives, field.astNode?.directives)?.anyOf ?? null;
  const internalOnly = (required: RequiredScopes) => !!required?.length && required.every((all) => all.includes(INTERNAL_SCOPE));
  const isPublicField = (parent: GraphQLCompositeType, field: Field) =>
    !hidden(field.astNode?.directives) && isPublicType(getNamedType(field.type)) && !internalOnly(requirementOfField(parent, field));
  const publicFields = (type: GraphQLCompositeType) =>
    isUnionType(type) ? [] : Object.values(type.getFields()).filter((field) => isPublicField(type, field));
  const publicArguments = (field: Field) => field.args.filter((a) => !hidden(a.astNode?.directives));
  const requiredArguments = (field: Field) => publicArguments(field).filter((a) => isNonNullType(a.type) && a.defaultValue === undefined);

  const view: PublicSchema = { schema, costs, isPublicType, fieldsOf: publicFields, argumentsOf: publicArguments, requiredArguments };
  const routes = findRoutes(view, roots);
  const exampleFor = (parent: GraphQLCompositeType, field: Field): ReferenceExample | undefined => {
    const route = roots.has(parent.name) ? { operation: roots.get(parent.name)!, steps: [] } : routes.get(parent.name);
    if (!route) return undefined;
    const example = new ExampleWriter(view).write(route, parent, field);
    const cost = calculator.requestedCost(schema, parse(example.query), undefined, example.variables);
    return { ...example, cost };
  };

  const costOf = (coordinate: string, type: GraphQLNamedType): ReferenceCost => {
    const declared = costs.weightOf(coordinate) ?? costs.typeWeightOf(type.name);
    const listSize = costs.listSizeOf(coordinate);
    return {
      weight: declared ?? (isCompositeType(type) ? 1 : 0),
      declared: declared !== undefined,
      ...(listSize ? { listSize: { ...listSize } } : {}),
    };
  };
  const argumentOf = (coordinate: string, argument: GraphQLArgument): ReferenceArgument => ({
    name: argument.name,
    type: String(argument.type),
    description: argument.description ?? null,
    defaultValue: argument.astNode?.defaultValue ? print(argument.astNode.defaultValue) : null,
    cost: costs.weightOf(`${coordinate}(${argument.name}:)`) ?? null,
    deprecationReason: deprecationOf(argument.astNode?.directives),
  });

  const types: ReferenceType[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isDocumented(type)) continue;
    const base = { name: type.name, description: type.description ?? null, root: roots.has(type.name), fields: [] as ReferenceField[], enumValues: [], interfaces: [] as string[], possibleTypes: [] as string[] };
    if (isObjectType(type) || isInterfaceType(type)) {
      const fields = publicFields(type).map((field): ReferenceField => {
        const coordinate = `${type.name}.${field.name}`;
        const named = getNamedType(field.type);
        const example = exampleFor(type, field);
        return {
          name: field.name,
          coordinate,
          description: field.description ?? null,
          type: String(field.type),
          typeName: named.name,
          arguments: publicArguments(field).map((a) => argumentOf(coordinate, a)),
          requiredScopes: requirementOfField(type, field),
          cost: costOf(coordinate, named),
          deprecationReason: deprecationOf(field.astNode?.directives),
          ...(example ? { example } : {}),
        };
      });
      if (!fields.length) continue;
      types.push({
        ...base,
        kind: isObjectType(type) ? 'OBJECT' : 'INTERFACE',
        fields,
        interfaces: type.getInterfaces().filter(isPublicType).map((i) => i.name),
        possibleTypes: isInterfaceType(type) ? schema.getPossibleTypes(type).filter(isPublicType).map((t) => t.name) : [],
      });
    } else if (isUnionType(type)) {
      types.push({ ...base, kind: 'UNION', possibleTypes: type.getTypes().filter(isPublicType).map((t) => t.name) });
    } else if (isEnumType(type)) {
      const values = type.getValues().filter((v) => !hidden(v.astNode?.directives));
      types.push({ ...base, kind: 'ENUM', enumValues: values.map((v) => ({ name: v.name, description: v.description ?? null, deprecationReason: deprecationOf(v.astNode?.directives) })) });
    } else if (isInputObjectType(type)) {
      const fields = Object.values(type.getFields())
        .filter((f) => !hidden(f.astNode?.directives))
        .map((f): ReferenceField => {
          const coordinate = `${type.name}.${f.name}`;
          const named = getNamedType(f.type);
          return {
            name: f.name,
            coordinate,
            description: f.description ?? null,
            type: String(f.type),
            typeName: named.name,
            arguments: [],
            requiredScopes: null,
            cost: { weight: costs.weightOf(coordinate) ?? 0, declared: costs.weightOf(coordinate) !== undefined },
            deprecationReason: deprecationOf(f.astNode?.directives),
          };
        });
      types.push({ ...base, kind: 'INPUT_OBJECT', fields });
    } else if (isScalarType(type)) {
      types.push({ ...base, kind: 'SCALAR' });
    }
  }
  const kindOrder = (t: ReferenceType) => (t.root ? [...roots.keys()].indexOf(t.name) : roots.size);
  types.sort((a, b) => kindOrder(a) - kindOrder(b) || a.name.localeCompare(b.name));
  return { types, scopes: [...scopes].sort((a, b) => a.name.localeCompare(b.name)) };
}

/**
 * The shortest way from a root operation type to each object, interface and union of the API:
 * breadth first, queries before mutations before subscriptions, fields that need no argument
 * before those that do and deprecated ones last, so an example asks as little of its reader as it
 * can.
 */
function findRoutes({ schema, fieldsOf, requiredArguments, isPublicType }: PublicSchema, roots: Map<string, OperationTypeNode>): Map<string, Route> {
  const routes = new Map<string, Route>();
  // A deprecated field is a last resort, after any number of required arguments.
  const costOfStep = (field: Field) => requiredArguments(field).length + (deprecationOf(field.astNode?.directives) ? 100 : 0);
  for (const [rootName, operation] of roots) {
    const root = schema.getType(rootName) as GraphQLObjectType;
    const queue: { type: GraphQLCompositeType; steps: Step[] }[] = [{ type: root, steps: [] }];
    while (queue.length) {
      const { type, steps } = queue.shift()!;
      const reach = (next: GraphQLCompositeType, step: Step) => {
        if (routes.has(next.name) || roots.has(next.name) || !isPublicType(next)) return;
        const route = { operation, steps: [...steps, step] };
        routes.set(next.name, route);
        queue.push({ type: next, steps: route.steps });
      };
      if (isUnionType(type) || isInterfaceType(type)) {
        for (const member of schema.getPossibleTypes(type)) reach(member, { kind: 'fragment', on: member });
      }
      if (isUnionType(type)) continue;
      const fields = [...fieldsOf(type)].sort((a, b) => costOfStep(a) - costOfStep(b));
      for (const field of fields) {
        const named = getNamedType(field.type);
        if (isCompositeType(named)) reach(named, { kind: 'field', parent: type, field });
      }
    }
  }
  return routes;
}

/** Writes one example operation: the route's fields, then the field itself with a small selection. */
class ExampleWriter {
  private readonly variables: Record<string, unknown> = {};
  private readonly definitions: string[] = [];

  constructor(private readonly view: PublicSchema) {}

  write(route: Route, parent: GraphQLCompositeType, target: Field): { query: string; variables: Record<string, unknown> } {
    let body = this.fieldWithSelection(parent, target, 0);
    for (const step of [...route.steps].reverse()) {
      body = step.kind === 'fragment' ? `... on ${step.on.name} { ${body} }` : `${this.call(step.parent, step.field)} { ${body} }`;
    }
    const name = `${upperFirst(parent.name)}${upperFirst(target.name)}`;
    const signature = this.definitions.length ? `(${this.definitions.join(', ')})` : '';
    const source = `${route.operation} ${name}${signature} { ${body} }`;
    return { query: print(parse(source)), variables: this.variables };
  }

  /** The field with its arguments: required ones as variables, a small page for a sliced list. */
  private call(parent: GraphQLCompositeType, field: Field): string {
    const args: string[] = [];
    const slicing = this.view.costs.listSizeOf(`${parent.name}.${field.name}`)?.slicingArguments ?? [];
    const required = new Set(this.view.requiredArguments(field));
    for (const argument of this.view.argumentsOf(field)) {
      if (required.has(argument)) {
        const variable = this.variableFor(argument.name, argument.type);
        args.push(`${argument.name}: $${variable}`);
      } else if (slicing.includes(argument.name) && isScalarType(getNullableType(argument.type)) && String(getNullableType(argument.type)) === 'Int') {
        args.push(`${argument.name}: ${EXAMPLE_PAGE_SIZE}`);
      }
    }
    return args.length ? `${field.name}(${args.join(', ')})` : field.name;
  }

  private variableFor(argumentName: string, type: GraphQLInputType): string {
    let name = argumentName;
    for (let n = 2; name in this.variables; n++) name = `${argumentName}${n}`;
    this.variables[name] = exampleValue(type, argumentName, 0);
    this.definitions.push(`$${name}: ${String(type)}`);
    return name;
  }

  private fieldWithSelection(parent: GraphQLCompositeType, field: Field, depth: number): string {
    const named = getNamedType(field.type);
    const call = this.call(parent, field);
    return isCompositeType(named) ? `${call} { ${this.selectionOf(named, depth + 1)} }` : call;
  }

  /** A few leaves of a type, its page's items for a connection, one level further when it has no leaf of its own. */
  private selectionOf(type: GraphQLCompositeType, depth: number): string {
    if (isUnionType(type)) {
      const members = this.view.schema.getPossibleTypes(type).slice(0, 3);
      return ['__typename', ...members.map((m) => `... on ${m.name} { ${this.leavesOf(m).join(' ') || '__typename'} }`)].join(' ');
    }
    const fields = this.view.fieldsOf(type).filter((f) => this.view.requiredArguments(f).length === 0 && !deprecationOf(f.astNode?.directives));
    const parts = this.leavesOf(type);
    const items = fields.find((f) => f.name === 'nodes' && isCompositeType(getNamedType(f.type)));
    if (items && depth < 4) parts.push(this.fieldWithSelection(type, items, depth));
    if (!parts.length && depth < 3) {
      const nested = fields.find((f) => isCompositeType(getNamedType(f.type)));
      if (nested) parts.push(this.fieldWithSelection(type, nested, depth));
    }
    if (isInterfaceType(type)) parts.unshift('__typename');
    return parts.join(' ') || '__typename';
  }

  private leavesOf(type: GraphQLCompositeType): string[] {
    if (isUnionType(type)) return [];
    const leaves = this.view.fieldsOf(type).filter((f) => !isCompositeType(getNamedType(f.type)) && this.view.requiredArguments(f).length === 0 && !deprecationOf(f.astNode?.directives));
    const preferred = PREFERRED_LEAVES.flatMap((name) => leaves.filter((f) => f.name === name));
    const rest = leaves.filter((f) => !PREFERRED_LEAVES.includes(f.name));
    return [...preferred, ...rest].slice(0, MAX_LEAVES).map((f) => f.name);
  }
}

/** A value of an input type for an example's variables: placeholders a reader replaces, but valid ones. */
function exampleValue(type: GraphQLInputType, name: string, depth: number): unknown {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return [exampleValue(nullable.ofType, name, depth)];
  if (isEnumType(nullable)) return nullable.getValues().find((v) => !hidden(v.astNode?.directives))?.name ?? null;
  if (isInputObjectType(nullable)) {
    const value: Record<string, unknown> = {};
    if (depth > 4) return value;
    for (const field of Object.values(nullable.getFields())) {
      if (hidden(field.astNode?.directives) || !isNonNullType(field.type) || field.defaultValue !== undefined) continue;
      value[field.name] = exampleValue(field.type, field.name, depth + 1);
    }
    return value;
  }
  switch (nullable.name) {
    case 'Int':
    case 'Long':
      return 1;
    case 'Float':
      return 1.5;
    case 'Boolean':
      return true;
    case 'DateTime':
      return EXAMPLE_INSTANT;
    case 'JSON':
      return {};
    case 'ID':
      return `${name}-1`;
    default:
      return `example ${name}`;
  }
}

const upperFirst = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
