/**
 * The API catalog: every field of the public API (the composed supergraph without its
 * @inaccessible parts) with the scopes it needs, read from the same directives that enforce them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kind, parse, type ConstDirectiveNode } from 'graphql';
import { requirementOf, satisfies, type Requirement } from '../../core/permissions.js';
import { schemaDir } from '../../core/paths.js';

export interface CatalogField {
  coordinate: string;
  description: string | null;
  requirement: Requirement;
}

const hidden = (directives: readonly ConstDirectiveNode[] | undefined) => directives?.some((d) => d.name.value === 'inaccessible') ?? false;

export function readApiCatalog(file = path.join(schemaDir, 'supergraph.graphql')): CatalogField[] {
  const document = parse(fs.readFileSync(file, 'utf8'));
  const fields: CatalogField[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    const typeName = definition.name.value;
    if (typeName.startsWith('join__') || typeName.startsWith('link__') || hidden(definition.directives)) continue;
    for (const field of definition.fields ?? []) {
      if (hidden(field.directives)) continue;
      fields.push({
        coordinate: `${typeName}.${field.name.value}`,
        description: field.description?.value ?? null,
        requirement: requirementOf(definition.directives, field.directives) ?? { anyOf: [] },
      });
    }
  }
  return fields.sort((a, b) => a.coordinate.localeCompare(b.coordinate));
}

export function catalogFor(catalog: CatalogField[], scopes: ReadonlySet<string>) {
  return catalog.map((field) => ({
    coordinate: field.coordinate,
    description: field.description,
    requiredScopes: field.requirement.anyOf,
    available: satisfies(scopes, field.requirement),
  }));
}
