/** Scalars shared by every subgraph. */
import { GraphQLScalarType, Kind, type GraphQLSchema } from 'graphql';

const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value)) {
    throw new TypeError('DateTime must be an ISO-8601 string with a time zone, for example 2026-01-31T12:00:00Z');
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new TypeError('DateTime is not a valid date');
  return date;
}

export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An ISO-8601 date and time in UTC, for example 2026-01-31T12:00:00.000Z.',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new TypeError('DateTime cannot represent an invalid date');
    return date.toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new TypeError('DateTime must be a string');
    return parseDateTime(ast.value);
  },
});

function toSafeInteger(value: unknown): number {
  const n = typeof value === 'bigint' ? Number(value) : typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new TypeError('Long must be an integer within ±(2^53-1)');
  return n;
}

export const Long = new GraphQLScalarType({
  name: 'Long',
  description: 'A 64-bit integer within ±(2^53-1), sent as a JSON number. Money amounts are Long minor units.',
  serialize: toSafeInteger,
  parseValue: toSafeInteger,
  parseLiteral(ast) {
    if (ast.kind !== Kind.INT) throw new TypeError('Long must be an integer literal');
    return toSafeInteger(ast.value);
  },
});

export const scalarResolvers = { DateTime, Long };

/**
 * The gateway builds its API schema from the supergraph, where custom scalars accept anything.
 * Giving them the real input parsing lets the gateway refuse a bad DateTime or Long itself (a
 * validation error for a literal, BAD_USER_INPUT for a variable) before any subgraph is called.
 */
export function applyScalarParsing(schema: GraphQLSchema): void {
  for (const scalar of [DateTime, Long]) {
    const type = schema.getType(scalar.name);
    if (type instanceof GraphQLScalarType) {
      type.parseValue = scalar.parseValue;
      type.parseLiteral = scalar.parseLiteral;
    }
  }
}
