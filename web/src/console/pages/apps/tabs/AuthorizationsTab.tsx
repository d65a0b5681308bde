/** Every merchant that authorized the app, newest first: the scopes it consented to, when, the app's last call for it, and revocations. */
import { Badge, Group, Table, Text } from '@mantine/core';
import { formatDateTime } from '../../../../lib/format';
import { EmptyState, QueryState } from '../../../../lib/layout';
import { useOperation } from '../../../../lib/use-operation';
import { APP_AUTHORIZATIONS } from '../../../operations';
import { useAppTab } from '../AppPage';

export default function AuthorizationsTab() {
  const { app } = useAppTab();
  const state = useOperation(APP_AUTHORIZATIONS, { key: app.key });
  return (
    <QueryState
      state={state}
      loadingLabel="Loading the authorizations"
      isEmpty={(data) => !data.app?.authorizations.length}
      empty={<EmptyState title="No merchant authorized the app">Merchants authorize an app when they consent on the passport's page.</EmptyState>}
    >
      {(data) => (
        <Table.ScrollContainer minWidth={760}>
          <Table striped>
            <Table.Caption>Merchants' authorizations of the app, newest first, revoked ones included</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Merchant</Table.Th>
                <Table.Th>Scopes</Table.Th>
                <Table.Th>Authorized</Table.Th>
                <Table.Th>Last call</Table.Th>
                <Table.Th>State</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.app!.authorizations.map((authorization) => (
                <Table.Tr key={authorization.id}>
                  <Table.Td>
                    <Text size="sm">{authorization.merchantName}</Text>
                    <Text size="xs" c="dimmed" ff="monospace">
                      {authorization.merchantId}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {authorization.scopes.map((scope) => (
                        <Badge key={scope} variant="light" size="sm" tt="none">
                          {scope}
                        </Badge>
                      ))}
                    </Group>
                  </Table.Td>
                  <Table.Td>{formatDateTime(authorization.authorizedAt)}</Table.Td>
                  <Table.Td>{authorization.lastUsedAt ? formatDateTime(authorization.lastUsedAt) : 'Not in 90 days'}</Table.Td>
                  <Table.Td>
                    {authorization.revokedAt ? (
                      <Text size="sm" component="div">
                        <Badge color="red" variant="light" miw="max-content">
                          Revoked
                        </Badge>{' '}
                        {formatDateTime(authorization.revokedAt)}
                        {authorization.revokedBy ? ` by ${authorization.revokedBy}` : ''}
                      </Text>
                    ) : (
                      <Badge color="teal" variant="light" miw="max-content">
                        In force
                      </Badge>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </QueryState>
  );
}
