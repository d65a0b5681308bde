/** Every developer, newest first: search by name, email or company, filter by verification and by disabled. */
import { Anchor, Group, Select, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useState } from 'react';
import { Link } from 'react-router';
import { formatDateTime } from '../../../lib/format';
import { EmptyState, PageHeader, QueryState } from '../../../lib/layout';
import { useOperation } from '../../../lib/use-operation';
import { DisabledBadge, VerificationBadge } from '../../components/badges';
import { Pager, usePager } from '../../components/Pager';
import { DEVELOPERS, type VerificationStatus } from '../../operations';

const PAGE_SIZE = 20;

export default function DevelopersPage() {
  const [search, setSearch] = useState('');
  const [debouncedSearch] = useDebouncedValue(search.trim(), 300);
  const [verification, setVerification] = useState<string | null>(null);
  const [disabled, setDisabled] = useState<string | null>(null);
  const filterKey = JSON.stringify([debouncedSearch, verification, disabled]);
  const pager = usePager(filterKey);
  const state = useOperation(DEVELOPERS, {
    first: PAGE_SIZE,
    after: pager.after,
    ...(debouncedSearch ? { search: debouncedSearch } : {}),
    ...(verification ? { verificationStatus: verification as VerificationStatus } : {}),
    ...(disabled ? { disabled: disabled === 'disabled' } : {}),
  });

  return (
    <>
      <PageHeader title="Developers" description="Verify or reject developers, and disable accounts. Every decision is recorded with its reason." />
      <Group mb="md" align="flex-end" wrap="wrap">
        <TextInput label="Search" placeholder="Name, email or company" value={search} onChange={(e) => setSearch(e.currentTarget.value)} w={280} type="search" />
        <Select
          label="Verification"
          placeholder="Any"
          clearable
          data={[
            { value: 'PENDING', label: 'Pending' },
            { value: 'VERIFIED', label: 'Verified' },
            { value: 'REJECTED', label: 'Rejected' },
          ]}
          value={verification}
          onChange={setVerification}
          w={180}
        />
        <Select
          label="Account"
          placeholder="Any"
          clearable
          data={[
            { value: 'enabled', label: 'Enabled' },
            { value: 'disabled', label: 'Disabled' },
          ]}
          value={disabled}
          onChange={setDisabled}
          w={160}
        />
      </Group>
      <QueryState
        state={state}
        loadingLabel="Loading developers"
        isEmpty={(data) => data.developers.nodes.length === 0}
        empty={<EmptyState title="No developer matches">Change the search or the filters.</EmptyState>}
      >
        {({ developers }) => (
          <>
            <Table.ScrollContainer minWidth={720}>
              <Table striped highlightOnHover>
                <Table.Caption>Developers, newest first</Table.Caption>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Name</Table.Th>
                    <Table.Th>Email</Table.Th>
                    <Table.Th>Kind</Table.Th>
                    <Table.Th>Verification</Table.Th>
                    <Table.Th>Signed up</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {developers.nodes.map((developer) => (
                    <Table.Tr key={developer.id}>
                      <Table.Td>
                        <Anchor component={Link} to={`/developers/${encodeURIComponent(developer.id)}`}>
                          {developer.name}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        {developer.email}
                        {!developer.emailVerified && (
                          <Text span size="xs" c="dimmed">
                            {' '}
                            (not confirmed)
                          </Text>
                        )}
                      </Table.Td>
                      <Table.Td>{developer.kind === 'COMPANY' ? developer.companyName ?? 'Company' : 'Individual'}</Table.Td>
                      <Table.Td>
                        <Group gap={6}>
                          <VerificationBadge status={developer.verificationStatus} />
                          {developer.disabledAt && <DisabledBadge />}
                        </Group>
                      </Table.Td>
                      <Table.Td>{formatDateTime(developer.createdAt)}</Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            <Pager pager={pager} hasNextPage={developers.pageInfo.hasNextPage} endCursor={developers.pageInfo.endCursor} totalCount={developers.totalCount} loading={state.loading} pageSize={PAGE_SIZE} noun="developers" />
          </>
        )}
      </QueryState>
    </>
  );
}
