/**
 * Beside the editor: what the sandbox token may call, from the platform's own apiCatalog. The scopes
 * the token holds (asked with it), the fields the current document selects (each with the scopes it
 * needs, whether the app holds them, and whether it is offline), and every field, searchable.
 */
import { Badge, Group, Paper, ScrollArea, SimpleGrid, Stack, Table, Text, TextInput, Title, Tooltip } from '@mantine/core';
import { useDeferredValue, useMemo, useState } from 'react';
import { Link } from 'react-router';
import { RequiredScopes } from '../reference/RequiredScopes';
import { satisfies, type CatalogField, type ScopeHolding } from './operations';

const LIST_LIMIT = 80;

function Availability({ field, held }: { field: CatalogField; held: ReadonlySet<string> }) {
  if (field.availability.status === 'OFFLINE')
    return (
      <Tooltip label={field.availability.reason ?? 'Taken offline by an operator'} multiline maw={280}>
        <Badge color="red.9" variant="filled" tt="none">
          Offline
        </Badge>
      </Tooltip>
    );
  return satisfies(held, field.requiredScopes) ? (
    <Badge color="teal.9" variant="filled" tt="none">
      Allowed
    </Badge>
  ) : (
    <Badge color="red.9" variant="outline" tt="none">
      Not allowed
    </Badge>
  );
}

function FieldRows({ fields, held, descriptions }: { fields: CatalogField[]; held: ReadonlySet<string>; descriptions: ReadonlyMap<string, string> }) {
  return (
    <Table verticalSpacing={6} fz="sm" layout="fixed">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Field</Table.Th>
          <Table.Th w={120}>For this app</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {fields.map((field) => {
          const [type = '', name = ''] = field.coordinate.split('.');
          return (
            <Table.Tr key={field.coordinate}>
              <Table.Td>
                <Stack gap={4}>
                  <Text size="sm" ff="monospace" style={{ overflowWrap: 'anywhere' }}>
                    <Link to={`/reference/${type}#field-${name}`}>{field.coordinate}</Link>
                  </Text>
                  <RequiredScopes required={field.requiredScopes} held={held} descriptions={descriptions} />
                </Stack>
              </Table.Td>
              <Table.Td>
                <Availability field={field} held={held} />
              </Table.Td>
            </Table.Tr>
          );
        })}
      </Table.Tbody>
    </Table>
  );
}

export function CatalogPanel({ fields, scopes, inQuery }: { fields: CatalogField[]; scopes: ScopeHolding[]; inQuery: string[] }) {
  const [search, setSearch] = useState('');
  const deferred = useDeferredValue(search.trim().toLowerCase());
  const held = useMemo(() => new Set(scopes.filter((s) => s.held).map((s) => s.scope.name)), [scopes]);
  const descriptions = useMemo(() => new Map(scopes.map((s) => [s.scope.name, s.scope.description])), [scopes]);
  const byCoordinate = useMemo(() => new Map(fields.map((f) => [f.coordinate, f])), [fields]);
  const queried = inQuery.flatMap((c) => byCoordinate.get(c) ?? []);
  const missing = queried.filter((f) => !satisfies(held, f.requiredScopes) || f.availability.status === 'OFFLINE');
  const matches = useMemo(() => {
    const words = deferred.split(/\s+/).filter(Boolean);
    return words.length ? fields.filter((f) => words.every((w) => `${f.coordinate} ${f.requiredScopes.flat().join(' ')} ${f.description ?? ''}`.toLowerCase().includes(w))) : fields;
  }, [fields, deferred]);

  // Beside the editor on wide screens (one column), below it on narrower ones (two).
  return (
    <SimpleGrid cols={{ base: 1, md: 2, xl: 1 }} spacing="md" verticalSpacing="md">
      <Stack gap="md">
        <Paper withBorder radius="md" p="md" component="section" aria-labelledby="explorer-scopes">
          <Title order={2} size="h5" id="explorer-scopes" mb="xs">
            Scopes of the sandbox token
          </Title>
          <Group gap={6}>
            {scopes.map(({ scope, held: isHeld }) => (
              <Tooltip key={scope.name} label={scope.description} multiline maw={300} withArrow>
                <Badge variant={isHeld ? 'filled' : 'outline'} color={isHeld ? 'teal.9' : 'gray.8'} tt="none" aria-label={`${scope.name}, ${isHeld ? 'held' : 'not held'}: ${scope.description}`}>
                  {scope.name}
                </Badge>
              </Tooltip>
            ))}
          </Group>
          <Text size="xs" c="dimmed" mt="xs">
            Filled: the app holds it. Request a permission package for the others.
          </Text>
        </Paper>

        <Paper withBorder radius="md" p="md" component="section" aria-labelledby="explorer-in-query">
          <Title order={2} size="h5" id="explorer-in-query" mb="xs">
            Fields in your query
          </Title>
          {queried.length === 0 ? (
            <Text size="sm" c="dimmed">
              Write a query: its fields show here with the scopes they need.
            </Text>
          ) : (
            <>
              <Text size="sm" role="status" mb="xs" c={missing.length ? 'red.9' : 'teal.9'}>
                {missing.length ? `${missing.length} of ${queried.length} fields will answer null with an error for this app.` : `The app may read all ${queried.length} fields.`}
              </Text>
              <FieldRows fields={queried} held={held} descriptions={descriptions} />
            </>
          )}
        </Paper>
      </Stack>

      <Paper withBorder radius="md" p="md" component="section" aria-labelledby="explorer-catalog">
        <Title order={2} size="h5" id="explorer-catalog" mb="xs">
          The API catalog
        </Title>
        <TextInput label="Search fields" placeholder="Order.status, orders:read_pii" type="search" value={search} onChange={(e) => setSearch(e.currentTarget.value)} mb="xs" />
        <Text size="xs" c="dimmed" mb="xs" role="status">
          {matches.length > LIST_LIMIT ? `The first ${LIST_LIMIT} of ${matches.length} fields` : `${matches.length} field${matches.length === 1 ? '' : 's'}`}
        </Text>
        <ScrollArea.Autosize mah={480} type="auto">
          <FieldRows fields={matches.slice(0, LIST_LIMIT)} held={held} descriptions={descriptions} />
        </ScrollArea.Autosize>
      </Paper>
    </SimpleGrid>
  );
}
