/**
 * The cost of an operation, as the IBM GraphQL cost spec counts it (the way the Apollo Router and
 * Hive Router read `@cost` and `@listSize`):
 * - a field returning an object, interface or union weighs 1, a scalar or enum 0, unless `@cost`
 *   on the field (or on its type) says otherwise; an argument or input field with `@cost` adds its
 *   weight when given; a mutation adds 10 for the operation itself;
 * - a list multiplies its items' weight and selections by its size: the largest slicing argument
 *   given (`first`, from the document or its variables, else the argument's default), else
 *   `@listSize(assumedSize:)`, else DEFAULT_LIST_SIZE; a connection's `sizedFields` (`edges`, `nodes`)
 *   take their size from the connection's slicing argument.
 * The requested cost is that estimate before execution; the actual cost counts the same weights
 * over the answer's real lists (a page shorter than `first` costs less), so the difference can be
 * refunded. Fragments are counted as if all their type conditions matched (an upper bound);
 * `@skip`/`@include` are ignored for the estimate and honoured by the actual count.
 *
 * Each document is compiled once (per operation name) into a small tree of weights and size rules;
 * the tree is then evaluated against the request's variables and the answer's data.
 */
import {
  Kind,
  OperationTypeNode,
  getNamedType,
  getNullableType,
  isCompositeType,
  isInputObjectType,
  isListType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLArgument,
  type GraphQLCompositeType,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  type FieldNode,
  valueFromAST,
} from 'graphql';
import type { SchemaCosts } from './schema-costs.js';

/** A list with no slicing argument and no `@listSize` is taken to hold this many items. */
export const DEFAULT_LIST_SIZE = 10;
/** What an operation itself weighs, by type (the IBM spec's operation type cost). */
const OPERATION_WEIGHT: Record<OperationTypeNode, number> = { query: 0, mutation: 10, subscription: 0 };

type Variables = Readonly<Record<string, unknown>> | undefined;

/** How many items a list is taken to have, before execution. */
interface SizeRule {
  slicing: { value: ValueNode | undefined; variableDefault: ValueNode | undefined; defaultValue: number | undefined; type: GraphQLInputType }[];
  assumedSize: number | undefined;
}

/** One response key of a selection set, with what it weighs and what it selects. */
interface CostField {
  responseKey: string;
  /** Per item (or once, for a field that is not a list). */
  weight: number;
  /** How its list is sized in the estimate (absent: not a list). */
  size: SizeRule | undefined;
  /** The given arguments' (and input fields') `@cost`, for the request's variables. */
  argumentsCost(variables: Variables): number;
  children: CostField[];
}

interface CompiledOperation {
  operationWeight: number;
  fields: CostField[];
}

export interface CostCalculator {
  /** The estimated cost of the operation `operationName` of a valid document (before execution). */
  requestedCost(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Variables): number;
  /** The cost of the same operation counted over its answer's data (real list lengths). */
  actualCost(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined, variables: Variables, data: unknown): number;
}

/** The arguments' cost of a field given no argument that costs (one function, so a field can be told to cost nothing). */
const NO_ARGUMENT_COST = (): number => 0;

export function createCostCalculator(costs: SchemaCosts, options: { defaultListSize?: number } = {}): CostCalculator {
  const defaultListSize = options.defaultListSize ?? DEFAULT_LIST_SIZE;
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledOperation | null>>();

  function compiledOf(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): CompiledOperation | null {
    let byName = compiled.get(document);
    if (!byName) compiled.set(document, (byName = new Map()));
    const key = operationName ?? '';
    if (byName.has(key)) return byName.get(key)!;
    const operation = compileOperation(schema, document, operationName, costs, defaultListSize);
    byName.set(key, operation);
    return operation;
  }

  function sizeOf(rule: SizeRule, variables: Variables): number {
    let largest: number | undefined;
    for (const slicing of rule.slicing) {
      let value = slicing.value;
      // A variable the request left out takes the operation's default for it, else the argument's.
      if (value?.kind === Kind.VARIABLE && (!variables || variables[value.name.value] === undefined)) value = slicing.variableDefault;
      const given = value ? valueFromAST(value, slicing.type, variables as Record<string, unknown> | undefined) : undefined;
      const size = typeof given === 'number' ? given : slicing.defaultValue;
      if (typeof size === 'number' && Number.isFinite(size)) largest = Math.max(largest ?? 0, size);
    }
    return Math.max(0, largest ?? rule.assumedSize ?? defaultListSize);
  }

  function requested(fields: readonly CostField[], variables: Variables): number {
    let total = 0;
    for (const field of fields) {
      const count = field.size ? sizeOf(field.size, variables) : 1;
      total += field.argumentsCost(variables) + count * (field.weight + requested(field.children, variables));
    }
    return total;
  }

  function actualOfValue(field: CostField, value: unknown, variables: Variables): number {
    if (value === null || value === undefined) return 0;
    if (Array.isArray(value)) {
      let total = 0;
      for (const item of value) total += actualOfValue(field, item, variables);
      return total;
    }
    return field.weight + (typeof value === 'object' ? actual(field.children, value as Record<string, unknown>, variables) : 0);
  }

  function actual(fields: readonly CostField[], data: Record<string, unknown>, variables: Variables): number {
    let total = 0;
    for (const field of fields) {
      if (!(field.responseKey in data)) continue;
      total += field.argumentsCost(variables) + actualOfValue(field, data[field.responseKey], variables);
    }
    return total;
  }

  return {
    requestedCost(schema, document, operationName, variables) {
      const operation = compiledOf(schema, document, operationName);
      if (!operation) return 0;
      return operation.operationWeight + requested(operation.fields, variables);
    },
    actualCost(schema, document, operationName, variables, data) {
      const operation = compiledOf(schema, document, operationName);
      if (!operation) return 0;
      const root = data && typeof data === 'object' ? (data as Record<string, unknown>) : {};
      return operation.operationWeight + actual(operation.fields, root, variables);
    },
  };
}

function compileOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  costs: SchemaCosts,
  defaultListSize: number,
): CompiledOperation | null {
  const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  const operation = operationName ? operations.find((o) => o.name?.value === operationName) : operations.length === 1 ? operations[0] : undefined;
  if (!operation) return null;
  const rootType = schema.getRootType(operation.operation);
  if (!rootType) return null;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  // Variable defaults of the operation stand in for variables the request left out.
  const variableDefaults = new Map<string, ValueNode>();
  for (const v of operation.variableDefinitions ?? []) if (v.defaultValue) variableDefaults.set(v.variable.name.value, v.defaultValue);
  const withDefaults = (value: ValueNode | undefined, variables: Variables): { value: ValueNode | undefined; variables: Variables } => {
    if (value?.kind !== Kind.VARIABLE) return { value, variables };
    const name = value.name.value;
    if (variables && variables[name] !== undefined) return { value, variables };
    return { value: variableDefaults.get(name), variables };
  };

  /** Every field node selected under `parentType`, by response key, through fragments. */
  function collect(parentType: GraphQLCompositeType, selectionSet: SelectionSetNode, into: Map<string, { parent: GraphQLCompositeType; nodes: FieldNode[] }>, seen: Set<string>) {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const key = selection.alias?.value ?? selection.name.value;
        const entry = into.get(key);
        if (entry) entry.nodes.push(selection);
        else into.set(key, { parent: parentType, nodes: [selection] });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const conditionType = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parentType;
        collect(isCompositeType(conditionType) ? conditionType : parentType, selection.selectionSet, into, seen);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        if (!fragment || seen.has(name)) continue;
        seen.add(name);
        const conditionType = schema.getType(fragment.typeCondition.name.value);
        collect(isCompositeType(conditionType) ? conditionType : parentType, fragment.selectionSet, into, seen);
      }
    }
  }

  function compileSelections(parentType: GraphQLCompositeType, selectionSets: readonly SelectionSetNode[], sizedBy?: { names: readonly string[]; rule: SizeRule }): CostField[] {
    const byKey = new Map<string, { parent: GraphQLCompositeType; nodes: FieldNode[] }>();
    for (const set of selectionSets) collect(parentType, set, byKey, new Set());
    const fields: CostField[] = [];
    for (const [responseKey, { parent, nodes }] of byKey) {
      const name = nodes[0]!.name.value;
      // __typename and introspection cost nothing: they never reach a subgraph.
      if (name.startsWith('__') || !('getFields' in parent)) continue;
      const definition = parent.getFields()[name];
      if (!definition) continue;
      const coordinate = `${parent.name}.${name}`;
      const namedType = getNamedType(definition.type);
      const weight = costs.weightOf(coordinate) ?? costs.typeWeightOf(namedType.name) ?? (isCompositeType(namedType) ? 1 : 0);
      const listSize = costs.listSizeOf(coordinate);
      const node = nodes[0]!;
      const argumentValue = (argumentName: string) => node.arguments?.find((a) => a.name.value === argumentName)?.value;
      const ruleFrom = (slicingArguments: readonly string[], assumedSize: number | undefined): SizeRule => ({
        slicing: slicingArguments.flatMap((argumentName) => {
          const argument = definition.args.find((a) => a.name === argumentName);
          if (!argument) return [];
          const value = argumentValue(argumentName);
          const defaultValue = typeof argument.defaultValue === 'number' ? argument.defaultValue : undefined;
          const variableDefault = value?.kind === Kind.VARIABLE ? variableDefaults.get(value.name.value) : undefined;
          return [{ value, variableDefault, defaultValue, type: argument.type }];
        }),
        assumedSize,
      });
      const isList = isListType(getNullableType(definition.type));
      let size: SizeRule | undefined;
      if (sizedBy?.names.includes(name)) size = sizedBy.rule;
      else if (isList) size = listSize && !listSize.sizedFields.length ? ruleFrom(listSize.slicingArguments, listSize.assumedSize) : { slicing: [], assumedSize: listSize?.assumedSize ?? defaultListSize };
      const childSizedBy = listSize?.sizedFields.length ? { names: listSize.sizedFields, rule: ruleFrom(listSize.slicingArguments, listSize.assumedSize) } : undefined;
      const childSets = nodes.flatMap((n) => (n.selectionSet ? [n.selectionSet] : []));
      const children = isCompositeType(namedType) && childSets.length ? compileSelections(namedType, childSets, childSizedBy) : [];
      const argumentsCost = argumentsCostOf(coordinate, definition.args, argumentValue);
      // A field that costs nothing itself, for its arguments or below (a scalar, mostly) adds 0 to
      // both counts: left out, so the actual count walks only what can cost.
      if (weight === 0 && argumentsCost === NO_ARGUMENT_COST && !children.length) continue;
      fields.push({ responseKey, weight, size, argumentsCost, children });
    }
    return fields;
  }

  /** The `@cost` of the arguments given, and of the input fields given inside them. */
  function argumentsCostOf(coordinate: string, args: readonly GraphQLArgument[], valueOf: (name: string) => ValueNode | undefined): (variables: Variables) => number {
    const parts: ((variables: Variables) => number)[] = [];
    for (const argument of args) {
      const node = valueOf(argument.name);
      if (!node) continue;
      const weight = costs.weightOf(`${coordinate}(${argument.name}:)`);
      const inputCost = inputCostOf(argument.type);
      if (weight === undefined && !inputCost) continue;
      parts.push((variables) => {
        const resolved = withDefaults(node, variables);
        if (!resolved.value) return 0;
        const value = valueFromAST(resolved.value, argument.type, resolved.variables as Record<string, unknown> | undefined);
        if (value === undefined || value === null) return 0;
        return (weight ?? 0) + (inputCost ? inputCost(value) : 0);
      });
    }
    if (!parts.length) return NO_ARGUMENT_COST;
    return (variables) => parts.reduce((sum, part) => sum + part(variables), 0);
  }

  /** For an input type with `@cost` somewhere in its fields: the cost of a given (coerced) value. */
  function inputCostOf(type: GraphQLInputType, depth = 0): ((value: unknown) => number) | undefined {
    const named = getNamedType(type);
    if (!isInputObjectType(named) || depth > 5) return undefined;
    const fieldCosts: [string, number, ((value: unknown) => number) | undefined][] = [];
    for (const field of Object.values(named.getFields())) {
      const weight = costs.weightOf(`${named.name}.${field.name}`) ?? 0;
      const nested = inputCostOf(field.type, depth + 1);
      if (weight || nested) fieldCosts.push([field.name, weight, nested]);
    }
    if (!fieldCosts.length) return undefined;
    const ofObject = (value: unknown): number => {
      if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + ofObject(item), 0);
      if (!value || typeof value !== 'object') return 0;
      let total = 0;
      for (const [name, weight, nested] of fieldCosts) {
        const given = (value as Record<string, unknown>)[name];
        if (given === undefined || given === null) continue;
        total += weight + (nested ? nested(given) : 0);
      }
      return total;
    };
    return ofObject;
  }

  return { operationWeight: OPERATION_WEIGHT[operation.operation], fields: compileSelections(rootType, [operation.selectionSet]) };
}
