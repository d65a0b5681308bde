/** Every app, newest first: search by key, name or developer, filter by status. */
import { Anchor, Group, Select, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState } from 'react';
import { Link } from 'react-router';
import { formatDateTime } from '../../../lib/format';
import { EmptyState, PageHeader, QueryState } from '../../../lib/layout';
import { useOperation } from '../../../lib/use-operation';
import { AppStatusBadge } from '../../components/badges';
import { Pager, usePager } from '../../components/Pager';
import { APPS, type AppStatus } from '../../operations';

const PAGE_SIZE = 20;

export default function AppsPage() {
  const [search, setSearch] = useState('');
  const [debouncedSearch] = useDebouncedValue(search.trim(), 300);
  const [status, setStatus] = useState<string | null>(null);
  const pager = usePager(JSON.stringify([debouncedSearch, status]));
  const state = useOperation(APPS, {
    first: PAGE_SIZE,
    after: pager.after,
    ...(debouncedSearch ? { search: debouncedSearch } : {}),
    ...(status ? { status: status as AppStatus } : {}),
  });

  return (
    <>
      <PageHeader title="Apps" description="Every app on the platform. Open one to suspend it, set its limits, grant packages or read its calls." />
      <Group mb="md" align="flex-end" wrap="wrap">
        <TextInput label="Search" placeholder="Key, name or developer" value={search} onChange={(e) => setSearch(e.currentTarget.value)} w={280} type="search" />
        <Select
          label="Status"
          placeholder="Any"
          clearable
          data={[
            { value: 'SANDBOX', label: 'Sandbox' },
            { value: 'LIVE', label: 'Live' },
            { value: 'SUSPENDED', label: 'Suspended' },
          ]}
          value={status}
          onChange={setStatus}
          w={180}
        />
      </Group>
      <QueryState state={state} loadingLabel="Loading apps" isEmpty={(data) => data.apps.nodes.length === 0} empty={<EmptyState title="No app matches">Change the search or the status.</EmptyState>}>
        {({ apps }) => (
          <>
            <Table.ScrollContainer minWidth={720}>
              <Table striped highlightOnHover>
                <Table.Caption>Apps, newest first</Table.Caption>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>App</Table.Th>
                    <Table.Th>Key</Table.Th>
                    <Table.Th>Developer</Table.Th>
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Created</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {apps.nodes.map((app) => (
                    <Table.Tr key={app.key}>
                      <Table.Td>
                        <Anchor component={Link} to={`/apps/${encodeURIComponent(app.key)}`}>
                          {app.name}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" ff="monospace">
                          {app.key}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Anchor component={Link} to={`/developers/${encodeURIComponent(app.developer.id)}`}>
                          {app.developer.companyName ?? app.developer.name}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <AppStatusBadge status={app.status} />
                      </Table.Td>
                      <Table.Td>{formatDateTime(app.createdAt)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <Pager pager={pager} hasNextPage={apps.pageInfo.hasNextPage} endCursor={apps.pageInfo.endCursor} totalCount={apps.totalCount} loading={state.loading} pageSize={PAGE_SIZE} noun="apps" />
          </>
        )}
      </QueryState>
    </>
  );
}
