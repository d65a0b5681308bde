/**
 * Field-by-field authorization, read from the schema itself: every field of a subgraph carries
 * Federation's `@authenticated` or `@requiresScopes(scopes: [[...]])` (outer list OR, inner list AND),
 * on the field or on its type (then both must hold). The graphql-shield rule map is built from those
 * directives, so there is no second list to keep in sync.
 *
 * Rules depend only on the caller's effective scopes, never on the object being resolved, and are
 * not cached (`no_cache`), so no answer about one object is ever reused for another.
 */
import { GraphQLError, Kind, type DocumentNode, type GraphQLSchema, type ConstDirectiveNode, isObjectType } from 'graphql';
import { allow, deny, rule, shield } from 'graphql-shield';
import type { IRule, IRules } from 'graphql-shield';
import { applyMiddleware } from 'graphql-middleware';
import type { Caller } from './caller.js';
import { ErrorCode } from './errors.js';

/** What a field needs: a verified caller, and optionally one of several scope sets. */
export interface Requirement {
  /** Alternatives: any one inner list, all of whose scopes the caller holds. Empty: authenticated only. */
  anyOf: string[][];
}

export type FieldRequirements = Map<string, Map<string, Requirement>>;

const FEDERATION_FIELDS = new Set(['_service', '_entities']);

/** The requirement a type's and a field's directives add up to, or undefined if neither has one. */
export function requirementOf(typeDirectives: readonly ConstDirectiveNode[] | undefined, fieldDirectives: readonly ConstDirectiveNode[] | undefined): Requirement | undefined {
  return both(readDirective(typeDirectives), readDirective(fieldDirectives));
}

function readDirective(directives: readonly ConstDirectiveNode[] | undefined): Requirement | undefined {
  let requirement: Requirement | undefined;
  for (const directive of directives ?? []) {
    if (directive.name.value === 'authenticated') requirement = { anyOf: requirement?.anyOf ?? [] };
    if (directive.name.value === 'requiresScopes') {
      const argument = directive.arguments?.find((a) => a.name.value === 'scopes');
      if (!argument || argument.value.kind !== Kind.LIST) throw new Error('@requiresScopes needs scopes: [[String!]!]!');
      const anyOf = argument.value.values.map((inner) => {
        if (inner.kind !== Kind.LIST) throw new Error('@requiresScopes scopes must be a list of lists');
        return inner.values.map((v) => {
          if (v.kind !== Kind.STRING) throw new Error('@requiresScopes scopes must be strings');
          return v.value;
        });
      });
      requirement = { anyOf };
    }
  }
  return requirement;
}

/** Both requirements must hold: every alternative of one combined with every alternative of the other. */
function both(a: Requirement | undefined, b: Requirement | undefined): Requirement | undefined {
  if (!a) return b;
  if (!b) return a;
  if (!a.anyOf.length) return b;
  if (!b.anyOf.length) return a;
  return { anyOf: a.anyOf.flatMap((x) => b.anyOf.map((y) => [...new Set([...x, ...y])])) };
}

/**
 * Reads every object field's requirement from a subgraph SDL. Fields with no directive on the field
 * or its type are reported in `uncovered` (a test keeps that list empty).
 */
export function readFieldRequirements(sdl: DocumentNode): { requirements: FieldRequirements; uncovered: string[]; typeRequirements: Map<string, Requirement> } {
  const requirements: FieldRequirements = new Map();
  const typeRequirements = new Map<string, Requirement>();
  const uncovered: string[] = [];
  for (const definition of sdl.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION && definition.kind !== Kind.OBJECT_TYPE_EXTENSION) continue;
    const typeName = definition.name.value;
    const onType = readDirective(definition.directives);
    if (onType) typeRequirements.set(typeName, onType);
    const fields = requirements.get(typeName) ?? new Map<string, Requirement>();
    for (const field of definition.fields ?? []) {
      const requirement = both(onType, readDirective(field.directives));
      if (requirement) fields.set(field.name.value, requirement);
      else uncovered.push(`${typeName}.${field.name.value}`);
    }
    requirements.set(typeName, fields);
  }
  return { requirements, uncovered, typeRequirements };
}

/** Whether scopes satisfy a requirement. */
export function satisfies(scopes: ReadonlySet<string>, requirement: Requirement): boolean {
  return requirement.anyOf.length === 0 || requirement.anyOf.some((all) => all.every((s) => scopes.has(s)));
}

export function forbiddenError(requirement: Requirement, what: string): GraphQLError {
  const needed = requirement.anyOf.map((all) => all.join(' and ')).join(', or ');
  return new GraphQLError(`${what} needs the scope ${needed}`, {
    extensions: { code: ErrorCode.FORBIDDEN, requiredScopes: requirement.anyOf },
  });
}

/** The caller's effective scopes as a Set, computed once per scope list (callers of one context batch with the same scopes share theirs, see callerOfClaims). */
const scopeSets = new WeakMap<readonly string[], ReadonlySet<string>>();
export function scopeSetOf(caller: Caller): ReadonlySet<string> {
  let set = scopeSets.get(caller.scopes);
  if (!set) {
    set = new Set(caller.scopes);
    scopeSets.set(caller.scopes, set);
  }
  return set;
}

interface PermissionContext {
  caller?: Caller;
}

/**
 * Wraps a built subgraph schema with graphql-shield: one rule per field from its requirement,
 * everything else denied. Entity resolution checks the entity type's own requirement before loading.
 */
export function applyPermissions(schema: GraphQLSchema, sdl: DocumentNode): GraphQLSchema {
  const { requirements, typeRequirements } = readFieldRequirements(sdl);
  const rulesByKey = new Map<string, IRule>();
  const ruleFor = (requirement: Requirement) => {
    const key = JSON.stringify(requirement.anyOf);
    let found = rulesByKey.get(key);
    if (!found) {
      found = rule(`requires:${key}`, { cache: 'no_cache' })((_parent, _args, context: PermissionContext, info) => {
        const caller = context.caller;
        if (!caller) return forbiddenError(requirement, `${info.parentType.name}.${info.fieldName}`);
        return satisfies(scopeSetOf(caller), requirement) || forbiddenError(requirement, `${info.parentType.name}.${info.fieldName}`);
      });
      rulesByKey.set(key, found);
    }
    return found!;
  };

  const ruleMap: Record<string, Record<string, unknown>> = {};
  for (const [typeName, fields] of requirements) {
    if (!schema.getType(typeName)) continue;
    const typeRules: Record<string, unknown> = {};
    for (const [fieldName, requirement] of fields) typeRules[fieldName] = ruleFor(requirement);
    ruleMap[typeName] = typeRules;
  }
  // Federation's own entry points: `_service` only describes the schema, and `_entities` resolves
  // references whose fields are each checked by their own rules (and whose types are checked below).
  ruleMap.Query = { ...ruleMap.Query, ...Object.fromEntries([...FEDERATION_FIELDS].map((f) => [f, allow])) };

  for (const [typeName, requirement] of typeRequirements) {
    const type = schema.getType(typeName);
    const subgraphExtensions = isObjectType(type) ? (type.extensions as { apollo?: { subgraph?: { resolveReference?: Function } } }).apollo?.subgraph : undefined;
    const resolveReference = subgraphExtensions?.resolveReference;
    if (subgraphExtensions && resolveReference) {
      subgraphExtensions.resolveReference = (reference: unknown, context: PermissionContext, info: unknown) => {
        if (!context.caller || !satisfies(scopeSetOf(context.caller), requirement)) throw forbiddenError(requirement, typeName);
        return resolveReference(reference, context, info);
      };
    }
  }

  const generated = shield(ruleMap as IRules, {
    fallbackRule: deny,
    fallbackError: () => new GraphQLError('Not authorized', { extensions: { code: ErrorCode.FORBIDDEN } }),
    allowExternalErrors: true,
    debug: false,
  }).generate(schema) as Record<string, Record<string, unknown>>;
  // graphql-shield wraps every field in an async middleware, and graphql-js then resolves each
  // wrapped field as a promise. A field that needs only `@authenticated` (ids of entity stubs,
  // Money's amount and currency, connection edges...) or is `allow` can never be refused here: a
  // subgraph executes nothing without a verified caller (startSubgraph refuses a request without a
  // valid context token before it reaches Apollo Server, and SubgraphContext.caller is required).
  // Those fields keep their plain resolvers; every field that needs a scope, and every field with
  // no requirement at all (denied), stays behind its rule.
  for (const [typeName, fields] of requirements) {
    for (const [fieldName, requirement] of fields) {
      if (requirement.anyOf.length === 0) delete generated[typeName]?.[fieldName];
    }
  }
  for (const field of FEDERATION_FIELDS) delete generated.Query?.[field];
  return applyMiddleware(schema, generated as Parameters<typeof applyMiddleware>[1]);
}
