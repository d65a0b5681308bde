/** One type of the reference: its description, then each field (or value) with what it needs, costs and an example. */
import { Accordion, Anchor, Badge, Button, Code, CopyButton, Group, Paper, Stack, Table, Text, Title } from '@mantine/core';
import { Link } from 'react-router';
import { RequiredScopes } from './RequiredScopes';
import type { ReferenceArgument, ReferenceCost, ReferenceField, ReferenceType } from './load-reference';

const KIND_LABELS: Record<ReferenceType['kind'], string> = {
  OBJECT: 'Object',
  INTERFACE: 'Interface',
  UNION: 'Union',
  ENUM: 'Enum',
  INPUT_OBJECT: 'Input',
  SCALAR: 'Scalar',
};

export const kindLabel = (type: ReferenceType) => (type.root ? 'Operations' : KIND_LABELS[type.kind]);

/** `[Order!]!` with `Order` a link to its page when the reference documents it. */
export function TypeReference({ type, typeName, known }: { type: string; typeName: string; known: ReadonlySet<string> }) {
  const at = type.indexOf(typeName);
  if (at < 0 || !known.has(typeName)) return <Code>{type}</Code>;
  return (
    <Code>
      {type.slice(0, at)}
      <Anchor component={Link} to={`/reference/${typeName}`} inherit>
        {typeName}
      </Anchor>
      {type.slice(at + typeName.length)}
    </Code>
  );
}

function costText(cost: ReferenceCost): string {
  const parts = [`weighs ${cost.weight}${cost.declared ? ' (@cost)' : ''}`];
  const size = cost.listSize;
  if (size?.slicingArguments.length) parts.push(`${size.sizedFields.length ? `its ${size.sizedFields.join(' and ')} are` : 'a list'} sized by ${size.slicingArguments.map((a) => `\`${a}\``).join(' or ')}`);
  else if (size?.assumedSize !== undefined) parts.push(`taken as ${size.assumedSize} items`);
  return parts.join(', ');
}

function Arguments({ args, known }: { args: ReferenceArgument[]; known: ReadonlySet<string> }) {
  return (
    <Table.ScrollContainer minWidth={480}>
      <Table withTableBorder verticalSpacing={4} fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Argument</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th>Default</Table.Th>
            <Table.Th>About</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {args.map((a) => (
            <Table.Tr key={a.name}>
              <Table.Td>
                <Code>{a.name}</Code>
              </Table.Td>
              <Table.Td>
                <TypeReference type={a.type} typeName={a.type.replace(/[[\]!]/g, '')} known={known} />
              </Table.Td>
              <Table.Td>{a.defaultValue !== null ? <Code>{a.defaultValue}</Code> : '—'}</Table.Td>
              <Table.Td>
                {a.description}
                {a.cost !== null && ` Costs ${a.cost} when given.`}
                {a.deprecationReason && ` Deprecated: ${a.deprecationReason}`}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** Where the explorer opens with this example in its editor. */
export const explorerLink = (query: string, variables: Record<string, unknown>) =>
  `/explorer?${new URLSearchParams({ query, ...(Object.keys(variables).length ? { variables: JSON.stringify(variables, null, 2) } : {}) })}`;

function FieldView({ type, field, known, descriptions }: { type: ReferenceType; field: ReferenceField; known: ReadonlySet<string>; descriptions: ReadonlyMap<string, string> }) {
  const input = type.kind === 'INPUT_OBJECT';
  return (
    <Paper withBorder p="md" radius="md" id={`field-${field.name}`} component="section" aria-labelledby={`field-${field.name}-title`}>
      <Stack gap="xs">
        <Group gap="xs" wrap="wrap">
          <Title order={3} size="h5" id={`field-${field.name}-title`} ff="monospace">
            {field.name}
          </Title>
          <TypeReference type={field.type} typeName={field.typeName} known={known} />
          {field.deprecationReason && (
            <Badge color="red" variant="light" tt="none">
              Deprecated
            </Badge>
          )}
        </Group>
        {field.description && (
          <Text size="sm" style={{ whiteSpace: 'pre-line' }}>
            {field.description}
          </Text>
        )}
        {field.deprecationReason && (
          <Text size="sm" c="red.8">
            Deprecated: {field.deprecationReason}
          </Text>
        )}
        {field.arguments.length > 0 && <Arguments args={field.arguments} known={known} />}
        {!input && (
          <Group gap="xs" wrap="wrap" align="center">
            <Text size="sm" fw={500}>
              Needs
            </Text>
            <RequiredScopes required={field.requiredScopes} descriptions={descriptions} />
            <Text size="sm" c="dimmed">
              · Cost: {costText(field.cost)}
            </Text>
          </Group>
        )}
        {field.example && (
          <Accordion variant="contained" chevronPosition="left">
            <Accordion.Item value="example">
              <Accordion.Control>
                <Text size="sm">Example (estimated cost {field.example.cost})</Text>
              </Accordion.Control>
              <Accordion.Panel>
                <Stack gap="xs">
                  <Code block>{field.example.query}</Code>
                  {Object.keys(field.example.variables).length > 0 && <Code block>{JSON.stringify(field.example.variables, null, 2)}</Code>}
                  <Group gap="xs">
                    <CopyButton value={field.example.query}>
                      {({ copied, copy }) => (
                        <Button size="xs" variant="default" onClick={copy}>
                          {copied ? 'Copied' : 'Copy the query'}
                        </Button>
                      )}
                    </CopyButton>
                    <Button size="xs" variant="light" component={Link} to={explorerLink(field.example.query, field.example.variables)}>
                      Run it in the explorer
                    </Button>
                  </Group>
                </Stack>
              </Accordion.Panel>
            </Accordion.Item>
          </Accordion>
        )}
      </Stack>
    </Paper>
  );
}

export function TypeView({ type, known, descriptions }: { type: ReferenceType; known: ReadonlySet<string>; descriptions: ReadonlyMap<string, string> }) {
  const related = type.kind === 'UNION' || type.kind === 'INTERFACE' ? type.possibleTypes : type.interfaces;
  return (
    <Stack gap="md">
      <Stack gap={4}>
        <Group gap="sm">
          <Title order={2} ff="monospace">
            {type.name}
          </Title>
          <Badge variant="light" tt="none">
            {kindLabel(type)}
          </Badge>
        </Group>
        {type.description && <Text style={{ whiteSpace: 'pre-line' }}>{type.description}</Text>}
        {related.length > 0 && (
          <Text size="sm">
            {type.kind === 'UNION' ? 'One of ' : type.kind === 'INTERFACE' ? 'Implemented by ' : 'Implements '}
            {related.map((name, i) => (
              <span key={name}>
                {i > 0 && ', '}
                <Anchor component={Link} to={`/reference/${name}`}>
                  {name}
                </Anchor>
              </span>
            ))}
          </Text>
        )}
      </Stack>
      {type.kind === 'ENUM' && (
        <Table withTableBorder fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Value</Table.Th>
              <Table.Th>About</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {type.enumValues.map((value) => (
              <Table.Tr key={value.name}>
                <Table.Td>
                  <Code>{value.name}</Code>
                </Table.Td>
                <Table.Td>
                  {value.description}
                  {value.deprecationReason && ` Deprecated: ${value.deprecationReason}`}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {type.fields.map((field) => (
        <FieldView key={field.name} type={type} field={field} known={known} descriptions={descriptions} />
      ))}
    </Stack>
  );
}
