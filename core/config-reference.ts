/**
 * The configuration reference, docs/configuration.md, rendered from core/config.ts's option table:
 * defaults and allowed values come from each option's zod schema (through its JSON Schema), the
 * rest from its definition, so the page cannot drift from what `loadConfig` accepts.
 * `npm run docs` writes it; tests/docs.test.ts fails when the checked-in page is stale.
 */
import { z } from 'zod';
import { CONFIG_GROUPS, CONFIG_OPTIONS, LIBRARY_VARIABLES, type ConfigGroup, type ConfigOption } from './config.js';

/** Where the page lives, relative to the repository root. */
export const CONFIGURATION_REFERENCE_PATH = 'docs/configuration.md';

interface JsonSchemaFacts {
  type?: string;
  format?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

const code = (value: unknown) => `\`${String(value)}\``;

function factsOf(definition: ConfigOption): JsonSchemaFacts {
  return z.toJSONSchema(definition.schema, { io: 'input' }) as JsonSchemaFacts;
}

function defaultOf(definition: ConfigOption, facts: JsonSchemaFacts): string {
  if (definition.defaultText) return definition.defaultText;
  return facts.default === undefined ? 'unset' : code(facts.default);
}

function allowedOf(definition: ConfigOption, facts: JsonSchemaFacts): string {
  if (definition.allowedText) return definition.allowedText;
  if (facts.enum) return facts.enum.map(code).join(', ');
  if (facts.type === 'integer' || facts.type === 'number') {
    const kind = facts.type === 'integer' ? 'an integer' : 'a number';
    if (facts.minimum !== undefined && facts.maximum !== undefined) return `${kind} from ${facts.minimum} to ${facts.maximum}`;
    if (facts.minimum !== undefined) return `${kind} of at least ${facts.minimum}`;
    return kind;
  }
  if (facts.format === 'uri') return 'an absolute URL';
  return 'text';
}

/** The whole page, as `npm run docs` writes it. */
export function renderConfigurationReference(): string {
  const lines: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from core/config.ts by `npm run docs`: edit the option there, then run `npm run docs`. -->',
    '',
    'Every option is an environment variable, read and validated once at start by `core/config.ts`',
    '(nothing else in the code reads the environment). A value out of bounds stops the process with',
    'a message naming every bad variable. `npm start` needs none of them; running services one per',
    'process is described in [operations.md](operations.md).',
    '',
  ];
  const entries = Object.entries(CONFIG_OPTIONS) as [string, ConfigOption][];
  for (const [group, title] of Object.entries(CONFIG_GROUPS) as [ConfigGroup, string][]) {
    const members = entries.filter(([, definition]) => definition.group === group);
    if (members.length === 0) continue;
    lines.push(`## ${title}`, '');
    for (const [name, definition] of members) {
      const facts = factsOf(definition);
      lines.push(`### \`${name}\``, '', definition.description, '', `Default: ${defaultOf(definition, facts)}. Allowed: ${allowedOf(definition, facts)}.`, '');
    }
  }
  lines.push(
    '## Read by libraries',
    '',
    'These are not options of `core/config.ts`: a library reads them itself. They are listed here',
    'because an operator may set them.',
    '',
  );
  for (const [name, variable] of Object.entries(LIBRARY_VARIABLES)) {
    lines.push(`### \`${name}\``, '', variable.description, '', `Read by ${variable.readBy}. Default: ${variable.defaultText}.`, '');
  }
  lines.push(
    '## Elsewhere',
    '',
    'The ERP example reads `PORTICO_URL`, `PORTICO_TOKEN` and `ERP_STATE_DIR`',
    '([examples/erp-sync/README.md](../examples/erp-sync/README.md)); `npm run bench` reads `BENCH_*`',
    '([bench/README.md](../bench/README.md)). Neither is part of the platform\'s configuration.',
    '',
  );
  return lines.join('\n');
}
