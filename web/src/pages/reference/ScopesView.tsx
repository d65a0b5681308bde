/** The reference's overview of scopes: each app scope by what it allows, and how many fields need it. */
import { Anchor, Code, Stack, Table, Text, Title } from '@mantine/core';
import { useMemo } from 'react';
import { Link } from 'react-router';
import type { ApiReference } from './load-reference';

export function ScopesView({ reference }: { reference: ApiReference }) {
  const fieldsNeeding = useMemo(() => {
    const counts = new Map<string, number>();
    for (const type of reference.types) {
      for (const field of type.fields) for (const scope of new Set(field.requiredScopes?.flat() ?? [])) counts.set(scope, (counts.get(scope) ?? 0) + 1);
    }
    return counts;
  }, [reference]);
  return (
    <Stack gap="md">
      <Stack gap={4}>
        <Title order={2}>Scopes</Title>
        <Text>
          What an app may do is the scopes its permission packages grant and the merchant consented to. Each field of the API names the scopes it needs: holding every scope of one of its
          alternatives lets the app read or call it.
        </Text>
      </Stack>
      <Table withTableBorder fz="sm" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Scope</Table.Th>
            <Table.Th>Lets an app</Table.Th>
            <Table.Th ta="right">Fields</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {reference.scopes.map((scope) => (
            <Table.Tr key={scope.name}>
              <Table.Td>
                <Code style={{ whiteSpace: 'nowrap' }}>{scope.name}</Code>
              </Table.Td>
              <Table.Td>{scope.description}</Table.Td>
              <Table.Td ta="right">
                <Anchor component={Link} to={`/reference?q=${encodeURIComponent(scope.name)}`} aria-label={`${fieldsNeeding.get(scope.name) ?? 0} fields need ${scope.name}: search them`}>
                  {fieldsNeeding.get(scope.name) ?? 0}
                </Anchor>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="sm" c="dimmed">
        Fields that need <code>operator</code> are for the platform&apos;s operators (the console), those that need <code>developer</code> for a signed-in developer (this portal); no app token
        holds either.
      </Text>
    </Stack>
  );
}
