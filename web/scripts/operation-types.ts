/**
 * The portal's operation types, generated: every GraphQL document in web/src (a template literal
 * marked `/* GraphQL *\/`, with `${CONSTANT}` parts taken from string constants of the same file) is
 * validated against the public API schema (the supergraph as the gateway serves it) and gets the
 * TypeScript type of its answer and of its variables in web/src/generated/operations.ts. A page's
 * types then follow the schema: a renamed field or a new enum value fails the typecheck, not a
 * developer's browser. tests/portal-operations.test.ts fails when the file is stale.
 *
 *   npm run web:types          # writes the file
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Supergraph } from '@apollo/federation-internals';
import {
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  parse,
  typeFromAST,
  validate,
  type GraphQLInputType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { schemaDir } from '../../core/paths.js';
import { supergraphForGateway } from '../../gateway/supergraph.js';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const generatedFile = path.join(webDir, 'src', 'generated', 'operations.ts');

/** Custom scalars as JSON carries them. */
const SCALARS: Record<string, string> = { ID: 'string', String: 'string', Int: 'number', Float: 'number', Boolean: 'boolean', DateTime: 'string', MessageCursor: 'string', Long: 'number', JSON: 'unknown' };

export function apiSchema(): GraphQLSchema {
  const sdl = fs.readFileSync(path.join(schemaDir, 'supergraph.graphql'), 'utf8');
  return Supergraph.build(supergraphForGateway(sdl)).apiSchema().toGraphQLJSSchema();
}

export interface FoundDocument {
  file: string;
  source: string;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sourceFiles(full);
    return /\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

/** Every complete operation document of web/src, its `${CONSTANT}` parts filled in. */
export function findDocuments(srcDir = path.join(webDir, 'src')): FoundDocument[] {
  const documents: FoundDocument[] = [];
  for (const file of sourceFiles(srcDir).sort()) {
    const code = fs.readFileSync(file, 'utf8');
    const constants = new Map<string, string>();
    for (const match of code.matchAll(/const (\w+) = (?:\/\* GraphQL \*\/ )?(?:`([^`$]*)`|'([^']*)')/g)) constants.set(match[1]!, match[2] ?? match[3] ?? '');
    for (const match of code.matchAll(/\/\* GraphQL \*\/ `([^`]*)`/g)) {
      const source = match[1]!.replace(/\$\{(\w+)\}/g, (whole, name: string) => {
        const value = constants.get(name);
        if (value === undefined) throw new Error(`${path.relative(webDir, file)}: \${${name}} in a GraphQL document is not a string constant of the file`);
        return value;
      });
      if (/^\s*(query|mutation|subscription)\b/.test(source)) documents.push({ file: path.relative(webDir, file), source });
    }
  }
  return documents;
}

const indent = (depth: number) => '  '.repeat(depth);

function outputType(type: GraphQLOutputType, selection: SelectionSetNode | undefined, schema: GraphQLSchema, depth: number): string {
  if (isNonNullType(type)) return innerOutput(type.ofType, selection, schema, depth);
  return `${innerOutput(type, selection, schema, depth)} | null`;
}

function innerOutput(type: GraphQLOutputType, selection: SelectionSetNode | undefined, schema: GraphQLSchema, depth: number): string {
  if (isListType(type)) {
    const item = outputType(type.ofType, selection, schema, depth);
    return isNonNullType(type.ofType) ? `${item}[]` : `(${item})[]`;
  }
  if (isScalarType(type)) return SCALARS[type.name] ?? 'unknown';
  if (isEnumType(type)) return type.getValues().map((v) => `'${v.name}'`).join(' | ');
  if (isObjectType(type) && selection) return objectType(type, selection, schema, depth);
  throw new Error(`cannot type ${String(type)} (interfaces and unions are not used by the portal)`);
}

function objectType(parent: GraphQLObjectType, selectionSet: SelectionSetNode, schema: GraphQLSchema, depth: number): string {
  const fields = parent.getFields();
  const lines = selectionSet.selections.map((selection) => {
    if (selection.kind !== 'Field') throw new Error('fragments are not used by the portal');
    const name = selection.alias?.value ?? selection.name.value;
    if (selection.name.value === '__typename') return `${indent(depth + 1)}${name}: '${parent.name}';`;
    const field = fields[selection.name.value]!;
    return `${indent(depth + 1)}${name}: ${outputType(field.type, selection.selectionSet, schema, depth + 1)};`;
  });
  return `{\n${lines.join('\n')}\n${indent(depth)}}`;
}

function inputType(type: GraphQLInputType, depth: number, seen: string[]): string {
  const inner = getNullableType(type) as GraphQLInputType;
  let written: string;
  if (isListType(inner)) written = `${wrap(inputType(inner.ofType, depth, seen))}[]`;
  else if (isScalarType(inner)) written = SCALARS[inner.name] ?? 'unknown';
  else if (isEnumType(inner)) written = inner.getValues().map((v) => `'${v.name}'`).join(' | ');
  else if (isInputObjectType(inner)) {
    if (seen.includes(inner.name)) throw new Error(`recursive input ${inner.name} is not used by the portal`);
    const lines = Object.values(inner.getFields()).map(
      (field) => `${indent(depth + 1)}${field.name}${isNonNullType(field.type) ? '' : '?'}: ${inputType(field.type, depth + 1, [...seen, inner.name])};`,
    );
    written = `{\n${lines.join('\n')}\n${indent(depth)}}`;
  } else throw new Error(`cannot type input ${String(inner)}`);
  return isNonNullType(type) ? written : `${written} | null`;
}

const wrap = (type: string) => (/[|&]/.test(type) ? `(${type})` : type);

function variablesType(operation: OperationDefinitionNode, schema: GraphQLSchema): string {
  const definitions = operation.variableDefinitions ?? [];
  if (!definitions.length) return 'undefined';
  const lines = definitions.map((definition) => {
    const type = typeFromAST(schema, definition.type as never) as GraphQLInputType | undefined;
    if (!type) throw new Error(`unknown type of $${definition.variable.name.value}`);
    const optional = !isNonNullType(type) || !!definition.defaultValue;
    return `  ${definition.variable.name.value}${optional ? '?' : ''}: ${inputType(type, 1, [])};`;
  });
  return `{\n${lines.join('\n')}\n}`;
}

/** The generated module's text; throws on a document the schema does not accept. */
export function generateOperationTypes(schema = apiSchema(), documents = findDocuments()): string {
  const names = new Set<string>();
  const parts = documents.map(({ file, source }) => {
    const document = parse(source);
    const errors = validate(schema, document);
    if (errors.length) throw new Error(`${file}: ${errors.map((e) => e.message).join('; ')}`);
    const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition')!;
    const name = operation.name?.value;
    if (!name) throw new Error(`${file}: every portal operation has a name (it shows in the app's call report)`);
    if (names.has(name)) throw new Error(`${file}: a second operation named ${name}`);
    names.add(name);
    const root = schema.getRootType(operation.operation)!;
    return [
      `/** ${operation.operation} ${name} (${file.replaceAll('\\', '/')}) */`,
      `export type ${name}Result = ${objectType(root, operation.selectionSet, schema, 0)};`,
      `export type ${name}Variables = ${variablesType(operation, schema)};`,
    ].join('\n');
  });
  return `/* Generated by web/scripts/operation-types.ts from the documents in web/src and schema/supergraph.graphql: do not edit. */\n\n${parts.join('\n\n')}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  fs.mkdirSync(path.dirname(generatedFile), { recursive: true });
  fs.writeFileSync(generatedFile, generateOperationTypes());
  console.log(`wrote ${path.relative(process.cwd(), generatedFile)}`);
}
