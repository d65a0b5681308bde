/** Audit log entries as a table: when, who, what, on what, why (the change's details on demand). */
import { Code, Spoiler, Table, Text } from '@mantine/core';
import { EmptyState } from '../../lib/layout';
import { formatDateTime } from '../../lib/format';

export interface AuditTrailEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  reason: string | null;
  details: string;
}

export function AuditTrail({ entries, caption }: { entries: AuditTrailEntry[]; caption: string }) {
  if (!entries.length) return <EmptyState title="Nothing recorded yet" />;
  return (
    <Table.ScrollContainer minWidth={700}>
      <Table striped verticalSpacing="xs">
        <Table.Caption>{caption}</Table.Caption>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>Who</Table.Th>
            <Table.Th>What</Table.Th>
            <Table.Th>On</Table.Th>
            <Table.Th>Why</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {entries.map((entry) => (
            <Table.Tr key={entry.id}>
              <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(entry.at)}</Table.Td>
              <Table.Td>
                <Text size="sm" ff="monospace">
                  {entry.actor}
                </Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm" ff="monospace">
                  {entry.action}
                </Text>
                {entry.details && entry.details !== '{}' && (
                  <Spoiler maxHeight={0} showLabel="Details" hideLabel="Hide details">
                    <Code block>{entry.details}</Code>
                  </Spoiler>
                )}
              </Table.Td>
              <Table.Td>
                <Text size="sm">
                  {entry.targetType} <Text span ff="monospace" size="sm">{entry.targetId}</Text>
                </Text>
              </Table.Td>
              <Table.Td>{entry.reason ?? '—'}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
