/**
 * The audit log (/audit): every change operators (and apps and developers, to their own settings)
 * made, newest first: who, when, what, on what, why, and the change itself. Filter by actor, action,
 * target type and id (kept in the address, so another page can link to a filtered view: /audit?
 * targetType=app&targetId=<key>); page forward and back through the entries.
 */
import { Button, Code, Collapse, Group, Loader, SimpleGrid, Stack, Table, Text, TextInput, UnstyledButton } from '@mantine/core';
import { Fragment, useState } from 'react';
import { useSearchParams } from 'react-router';
import { EmptyState, formatDateTime, PageHeader, QueryState, useOperation } from '../../../lib';
import { prettyDetails } from './details';
import { AUDIT_LOG, type AuditLogEntry, type AuditLogFilter } from './operations';

const PAGE_SIZE = 50;
const FILTERS: { key: keyof AuditLogFilter; label: string; placeholder: string }[] = [
  { key: 'actor', label: 'Actor', placeholder: 'operator:<id>, app:<key>, developer:<id>' },
  { key: 'action', label: 'Action', placeholder: 'package.granted, app.status…' },
  { key: 'targetType', label: 'Target type', placeholder: 'app, permission_package, developer…' },
  { key: 'targetId', label: 'Target id', placeholder: 'An app key, a package id…' },
];

function filterOf(params: URLSearchParams): AuditLogFilter | null {
  const filter: AuditLogFilter = {};
  for (const { key } of FILTERS) {
    const value = params.get(key)?.trim();
    if (value) filter[key] = value;
  }
  return Object.keys(filter).length ? filter : null;
}

function Entry({ entry }: { entry: AuditLogEntry }) {
  const [open, setOpen] = useState(false);
  const details = prettyDetails(entry.details);
  const detailsId = `audit-details-${entry.id}`;
  return (
    <Fragment>
      <Table.Tr data-testid="audit-entry">
        <Table.Td>
          <Text size="sm" style={{ whiteSpace: 'nowrap' }}>
            <time dateTime={entry.at}>{formatDateTime(entry.at)}</time>
          </Text>
        </Table.Td>
        <Table.Td>
          <Text size="sm" ff="monospace">
            {entry.actor}
          </Text>
        </Table.Td>
        <Table.Td>
          <Code>{entry.action}</Code>
        </Table.Td>
        <Table.Td>
          <Text size="sm">
            {entry.targetType}{' '}
            <Text span size="sm" ff="monospace">
              {entry.targetId}
            </Text>
          </Text>
        </Table.Td>
        <Table.Td>
          <Text size="sm">{entry.reason ?? '—'}</Text>
        </Table.Td>
        <Table.Td>
          {details ? (
            <UnstyledButton onClick={() => setOpen((o) => !o)} aria-expanded={open} aria-controls={detailsId} aria-label={`${open ? 'Hide' : 'Show'} the details of ${entry.action} on ${entry.targetType} ${entry.targetId}`} fz="sm" c="portico.8" td="underline">
              {open ? 'Hide' : 'Show'}
            </UnstyledButton>
          ) : (
            <Text size="sm" c="dimmed">
              —
            </Text>
          )}
        </Table.Td>
      </Table.Tr>
      {details && (
        <Table.Tr style={open ? undefined : { display: 'none' }}>
          <Table.Td colSpan={6} p={0}>
            <Collapse expanded={open} id={detailsId}>
              <Code block m="xs" aria-label={`Details of ${entry.action}`}>
                {details}
              </Code>
            </Collapse>
          </Table.Td>
        </Table.Tr>
      )}
    </Fragment>
  );
}

export default function AuditLogPage() {
  const [params, setParams] = useSearchParams();
  const filter = filterOf(params);
  // The cursors of the pages before this one, so "Newer" goes back without the API paging backward.
  const [cursors, setCursors] = useState<(string | null)[]>([]);
  const after = params.get('after');
  const log = useOperation(AUDIT_LOG, { filter, first: PAGE_SIZE, after });
  const [draft, setDraft] = useState<Record<string, string>>(() => Object.fromEntries(FILTERS.map(({ key }) => [key, params.get(key) ?? ''])));

  const show = (next: { filter?: Record<string, string>; after?: string | null }) => {
    const values = next.filter ?? Object.fromEntries(FILTERS.map(({ key }) => [key, params.get(key) ?? '']));
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(values)) if (value.trim()) search.set(key, value.trim());
    if (next.after) search.set('after', next.after);
    setParams(search);
  };

  return (
    <>
      <PageHeader title="Audit log" description="Who changed what, when and why, newest first. Every operator action is here with its reason." />
      <Stack>
        <form
          aria-label="Filter the audit log"
          onSubmit={(event) => {
            event.preventDefault();
            setCursors([]);
            show({ filter: draft, after: null });
          }}
        >
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
            {FILTERS.map(({ key, label, placeholder }) => (
              <TextInput key={key} label={label} placeholder={placeholder} value={draft[key] ?? ''} onChange={(e) => setDraft({ ...draft, [key]: e.currentTarget.value })} />
            ))}
          </SimpleGrid>
          <Group mt="sm">
            <Button type="submit">Filter</Button>
            <Button
              variant="default"
              onClick={() => {
                const empty = Object.fromEntries(FILTERS.map(({ key }) => [key, '']));
                setDraft(empty);
                setCursors([]);
                show({ filter: empty, after: null });
              }}
            >
              Clear
            </Button>
          </Group>
        </form>
        <QueryState
          state={log}
          loadingLabel="Loading the audit log"
          isEmpty={(data) => data.auditLog.nodes.length === 0}
          empty={<EmptyState title="No entries">{filter ? 'Nothing matches these filters.' : 'Nothing has been changed yet.'}</EmptyState>}
        >
          {({ auditLog }) => (
            <Stack>
              <Group gap="xs">
                <Text size="sm" c="dimmed" aria-live="polite">
                  {auditLog.totalCount} {auditLog.totalCount === 1 ? 'entry' : 'entries'}
                  {filter ? ' match' : ''}; page {cursors.length + 1}
                </Text>
                {log.loading && <Loader size="xs" aria-label="Loading the entries" />}
              </Group>
              <Table.ScrollContainer minWidth={1000}>
                <Table striped aria-label="Audit log entries" verticalSpacing="xs">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>When</Table.Th>
                      <Table.Th>Actor</Table.Th>
                      <Table.Th>Action</Table.Th>
                      <Table.Th>Target</Table.Th>
                      <Table.Th miw={220}>Reason</Table.Th>
                      <Table.Th>Details</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {auditLog.nodes.map((entry) => (
                      <Entry key={entry.id} entry={entry} />
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
              <Group>
                <Button
                  variant="default"
                  disabled={cursors.length === 0}
                  onClick={() => {
                    const previous = cursors.at(-1) ?? null;
                    setCursors(cursors.slice(0, -1));
                    show({ after: previous });
                  }}
                >
                  Newer entries
                </Button>
                <Button
                  variant="default"
                  disabled={!auditLog.pageInfo.hasNextPage}
                  onClick={() => {
                    setCursors([...cursors, after]);
                    show({ after: auditLog.pageInfo.endCursor });
                  }}
                >
                  Older entries
                </Button>
              </Group>
            </Stack>
          )}
        </QueryState>
      </Stack>
    </>
  );
}
