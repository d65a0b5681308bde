/**
 * The shape of the API reference the build generates from schema/supergraph.graphql
 * (web/plugins/api-reference.ts) and the portal's reference and explorer pages read. No imports, so
 * both the Node side and the browser side can use it.
 */

/** What a field needs: every scope of any one list (outer list: alternatives). Empty: any valid token. Null: nothing declared. */
export type RequiredScopes = string[][] | null;

/** The IBM cost directives of a field (Federation's https://specs.apollo.dev/cost/v0.1), as the gateway counts them. */
export interface ReferenceCost {
  /** What the field weighs per item: its own `@cost`, else its type's, else 1 for an object and 0 for a scalar or enum. */
  weight: number;
  /** Whether `weight` was declared by `@cost` (on the field or its type) rather than the default. */
  declared: boolean;
  /** `@listSize` of a list or connection field. */
  listSize?: { assumedSize?: number; slicingArguments: string[]; sizedFields: string[] };
}

export interface ReferenceArgument {
  name: string;
  /** As written in SDL: `[ID!]!`. */
  type: string;
  description: string | null;
  /** As written in SDL (`20`, `DAY`), or null when there is none. */
  defaultValue: string | null;
  /** `@cost(weight:)` added when the argument is given. */
  cost: number | null;
  deprecationReason: string | null;
}

/** One query (or mutation, or subscription) that reaches the field, with variables to run it. */
export interface ReferenceExample {
  query: string;
  variables: Record<string, unknown>;
  /** The gateway's estimate of what the example costs before it runs (flow control's requested cost). */
  cost: number;
}

export interface ReferenceField {
  name: string;
  /** `Type.field`, as apiCatalog names it. */
  coordinate: string;
  description: string | null;
  /** As written in SDL: `OrderConnection!`. */
  type: string;
  /** The named type under lists and non-null, for links. */
  typeName: string;
  arguments: ReferenceArgument[];
  requiredScopes: RequiredScopes;
  cost: ReferenceCost;
  deprecationReason: string | null;
  /** Absent for input fields and when no operation reaches the field. */
  example?: ReferenceExample;
}

export interface ReferenceEnumValue {
  name: string;
  description: string | null;
  deprecationReason: string | null;
}

export type ReferenceTypeKind = 'OBJECT' | 'INTERFACE' | 'UNION' | 'ENUM' | 'INPUT_OBJECT' | 'SCALAR';

export interface ReferenceType {
  name: string;
  kind: ReferenceTypeKind;
  description: string | null;
  /** The root operation types (Query, Mutation, Subscription) and the rest. */
  root: boolean;
  /** Objects and interfaces: their output fields; input objects: their input fields. */
  fields: ReferenceField[];
  enumValues: ReferenceEnumValue[];
  /** Interfaces an object or interface implements. */
  interfaces: string[];
  /** Objects of a union or implementing an interface. */
  possibleTypes: string[];
}

export interface ReferenceScope {
  name: string;
  description: string;
}

export interface ApiReference {
  /** Root types first (Query, Mutation, Subscription), then the rest by name. */
  types: ReferenceType[];
  /** The app scopes (schema/scopes.json), for their descriptions. */
  scopes: ReferenceScope[];
}
