/**
 * The portal's GraphQL documents against the public API schema: each one validates (a field renamed
 * or removed in a subgraph's SDL fails here, before any browser), and the answer and variable types
 * generated from them (web/src/generated/operations.ts, which the pages' types come from) are current.
 */
import fs from 'node:fs';
import { parse, validate } from 'graphql';
import { apiSchema, findDocuments, generateOperationTypes, generatedFile } from '../web/scripts/operation-types.js';

const schema = apiSchema();
const documents = findDocuments();

test('the portal has its operations, each a named query, mutation or subscription', () => {
  expect(documents.length).toBeGreaterThan(20);
  const names = documents.map((d) => /^\s*(?:query|mutation|subscription) (\w+)/.exec(d.source)?.[1]);
  expect(names.every(Boolean)).toBe(true);
  expect(new Set(names).size).toBe(names.length);
});

test('every document of the portal is valid against the public API schema', () => {
  const invalid = documents.map((d) => ({ file: d.file, errors: validate(schema, parse(d.source)).map((e) => e.message) })).filter((d) => d.errors.length);
  expect(invalid).toEqual([]);
});

test('a document asking for a field the schema lacks is refused by the generator', () => {
  expect(() => generateOperationTypes(schema, [{ file: 'x.ts', source: 'query Broken { viewerDeveloper { id nickname } }' }])).toThrow(/nickname/);
});

test('web/src/generated/operations.ts is what the documents and the schema generate (npm run web:types writes it)', () => {
  expect(fs.readFileSync(generatedFile, 'utf8')).toBe(generateOperationTypes(schema, documents));
});
