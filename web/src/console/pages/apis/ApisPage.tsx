/**
 * Offline APIs (/apis): take a field of the API offline for every app or some, now or in a window;
 * see what is offline now and what is planned (and, on demand, what ended); bring one back early.
 * Every button is a public operation: takeApiOffline, offlineApis, bringApiOnline.
 */
import { Badge, Button, Code, Group, Stack, Switch, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { useState } from 'react';
import { EmptyState, formatDateTime, PageHeader, QueryState, useMutation, useOperation } from '../../../lib';
import { ReasonDialog } from '../../components/ReasonDialog';
import { BRING_API_ONLINE, OFFLINE_APIS, API_FIELDS, type OfflineApi } from './operations';
import { TakeOfflineForm } from './TakeOfflineForm';
import { windowState, type WindowState } from './window';

const STATE: Record<WindowState, { color: string; label: string }> = {
  OFFLINE: { color: 'red', label: 'Offline now' },
  PLANNED: { color: 'orange', label: 'Planned' },
  BROUGHT_BACK: { color: 'gray', label: 'Brought back' },
  ENDED: { color: 'gray', label: 'Window ended' },
};

function OfflineList({ list, onBringBack }: { list: OfflineApi[]; onBringBack: (api: OfflineApi) => void }) {
  const now = Date.now();
  return (
    <Table.ScrollContainer minWidth={900}>
      <Table striped aria-label="Offline APIs" verticalSpacing="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Coordinate</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>For</Table.Th>
            <Table.Th>Window</Table.Th>
            <Table.Th>Reason</Table.Th>
            <Table.Th>Taken by</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {list.map((api) => {
            const state = windowState(api, now);
            return (
              <Table.Tr key={api.id} data-testid="offline-api">
                <Table.Td>
                  <Code>{api.coordinate}</Code>
                </Table.Td>
                <Table.Td>
                  <Badge color={STATE[state].color} variant="light">
                    {STATE[state].label}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  {api.appKeys ? (
                    <Text size="sm" ff="monospace">
                      {api.appKeys.join(', ')}
                    </Text>
                  ) : (
                    <Text size="sm">Every app</Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Text size="sm">
                    {formatDateTime(api.startsAt)} – {api.endsAt ? formatDateTime(api.endsAt) : 'until brought back'}
                  </Text>
                  {api.restoredAt && (
                    <Text size="xs" c="dimmed">
                      Brought back {formatDateTime(api.restoredAt)} by {api.restoredBy}: {api.restoreReason}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{api.reason}</Text>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{api.takenBy}</Text>
                  <Text size="xs" c="dimmed">
                    {formatDateTime(api.takenAt)}
                  </Text>
                </Table.Td>
                <Table.Td>
                  {(state === 'OFFLINE' || state === 'PLANNED') && (
                    <Button size="xs" variant="default" onClick={() => onBringBack(api)} aria-label={state === 'PLANNED' ? `Cancel the window of ${api.coordinate}` : `Bring back online ${api.coordinate}`}>
                      {state === 'PLANNED' ? 'Cancel the window' : 'Bring back online'}
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export default function ApisPage() {
  const fields = useOperation(API_FIELDS);
  const [includeEnded, setIncludeEnded] = useState(false);
  const offline = useOperation(OFFLINE_APIS, { includeEnded });
  const bringBack = useMutation(BRING_API_ONLINE);
  const [restoring, setRestoring] = useState<OfflineApi | null>(null);

  return (
    <>
      <PageHeader title="Offline APIs" description="Take a field of the API offline for maintenance or an incident, for every app or some, now or in a planned window." />
      <Stack gap="xl">
        <QueryState state={fields} loadingLabel="Loading the schema's fields">
          {(data) => <TakeOfflineForm fields={data.apiCatalog.fields} onTaken={() => void offline.refetch()} />}
        </QueryState>

        <Stack component="section" aria-labelledby="offline-now-title">
          <Group justify="space-between">
            <Title order={2} size="h4" id="offline-now-title">
              Offline now and planned
            </Title>
            <Switch label="Also those brought back or ended" checked={includeEnded} onChange={(e) => setIncludeEnded(e.currentTarget.checked)} />
          </Group>
          <QueryState
            state={offline}
            loadingLabel="Loading the offline APIs"
            isEmpty={(data) => data.offlineApis.length === 0}
            empty={<EmptyState title="Every API answers">No field is offline now, and no window is planned.</EmptyState>}
          >
            {(data) => <OfflineList list={data.offlineApis} onBringBack={setRestoring} />}
          </QueryState>
        </Stack>
      </Stack>

      <ReasonDialog
        opened={!!restoring}
        title={restoring ? `Bring ${restoring.coordinate} back online` : ''}
        description={restoring && windowState(restoring, Date.now()) === 'PLANNED' ? 'The planned window is cancelled: the field stays online.' : 'Within seconds every gateway answers the field again.'}
        error={bringBack.error}
        onClose={() => {
          setRestoring(null);
          bringBack.reset();
        }}
        onConfirm={async (reason) => {
          if (!restoring || !(await bringBack.run({ input: { id: restoring.id, reason } }))) return false;
          await offline.refetch();
          return true;
        }}
      />
    </>
  );
}
