/**
 * The costs the schema declares: the IBM cost directives (`@cost`, `@listSize`, Federation's
 * https://specs.apollo.dev/cost/v0.1) as composition wrote them into the supergraph. Read once from
 * the supergraph's SDL; the calculator asks this by schema coordinate.
 */
import { Kind, parse, type ConstDirectiveNode, type ConstValueNode, type DocumentNode } from 'graphql';

/** `@listSize` of a field: how many items a list (or the lists a connection holds) is taken to have. */
export interface ListSize {
  /** The size when no slicing argument gives one. */
  assumedSize?: number;
  /** Arguments whose value is the size (`first`); the largest given counts. */
  slicingArguments: string[];
  /** For a connection: the fields the slicing argument sizes (`edges`, `nodes`) instead of the field itself. */
  sizedFields: string[];
}

export interface SchemaCosts {
  /** `@cost(weight:)` of a field (`Type.field`), of an argument (`Type.field(arg:)`) or of an input field (`Input.field`). */
  weightOf(coordinate: string): number | undefined;
  /** `@cost(weight:)` on a type (object, scalar, enum): the weight of every field returning it. */
  typeWeightOf(typeName: string): number | undefined;
  listSizeOf(coordinate: string): ListSize | undefined;
}

function intArgument(directive: ConstDirectiveNode, name: string): number | undefined {
  const value = directive.arguments?.find((a) => a.name.value === name)?.value;
  return value?.kind === Kind.INT ? Number(value.value) : undefined;
}

function stringListArgument(directive: ConstDirectiveNode, name: string): string[] {
  const value: ConstValueNode | undefined = directive.arguments?.find((a) => a.name.value === name)?.value;
  if (!value) return [];
  if (value.kind === Kind.STRING) return [value.value];
  if (value.kind !== Kind.LIST) return [];
  return value.values.flatMap((v) => (v.kind === Kind.STRING ? [v.value] : []));
}

/** Reads every `@cost` and `@listSize` of a composed supergraph. */
export function readSchemaCosts(supergraphSdl: string | DocumentNode): SchemaCosts {
  const document = typeof supergraphSdl === 'string' ? parse(supergraphSdl) : supergraphSdl;
  const weights = new Map<string, number>();
  const typeWeights = new Map<string, number>();
  const listSizes = new Map<string, ListSize>();
  const noteWeight = (map: Map<string, number>, key: string, directives: readonly ConstDirectiveNode[] | undefined) => {
    const cost = directives?.find((d) => d.name.value === 'cost');
    const weight = cost && intArgument(cost, 'weight');
    if (weight !== undefined) map.set(key, weight);
  };
  for (const definition of document.definitions) {
    switch (definition.kind) {
      case Kind.OBJECT_TYPE_DEFINITION:
      case Kind.OBJECT_TYPE_EXTENSION:
      case Kind.INTERFACE_TYPE_DEFINITION:
      case Kind.INTERFACE_TYPE_EXTENSION:
        noteWeight(typeWeights, definition.name.value, definition.directives);
        for (const field of definition.fields ?? []) {
          const coordinate = `${definition.name.value}.${field.name.value}`;
          noteWeight(weights, coordinate, field.directives);
          for (const argument of field.arguments ?? []) noteWeight(weights, `${coordinate}(${argument.name.value}:)`, argument.directives);
          const listSize = field.directives?.find((d) => d.name.value === 'listSize');
          if (listSize) {
            const assumedSize = intArgument(listSize, 'assumedSize');
            listSizes.set(coordinate, {
              ...(assumedSize !== undefined ? { assumedSize } : {}),
              slicingArguments: stringListArgument(listSize, 'slicingArguments'),
              sizedFields: stringListArgument(listSize, 'sizedFields'),
            });
          }
        }
        break;
      case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      case Kind.INPUT_OBJECT_TYPE_EXTENSION:
        for (const field of definition.fields ?? []) noteWeight(weights, `${definition.name.value}.${field.name.value}`, field.directives);
        break;
      case Kind.SCALAR_TYPE_DEFINITION:
      case Kind.ENUM_TYPE_DEFINITION:
        noteWeight(typeWeights, definition.name.value, definition.directives);
        break;
      default:
        break;
    }
  }
  return {
    weightOf: (coordinate) => weights.get(coordinate),
    typeWeightOf: (typeName) => typeWeights.get(typeName),
    listSizeOf: (coordinate) => listSizes.get(coordinate),
  };
}
