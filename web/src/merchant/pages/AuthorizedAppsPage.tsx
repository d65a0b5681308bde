/**
 * Every app the shop authorized, newest first, revoked ones included: the app, its developer, the
 * scopes it was given, when, when it last called, and whether it still may; each app still
 * authorized has a Revoke button (named "Revoke <app name>") that asks first. A table on wide
 * screens; on a phone's width, one card per app (the table's Revoke buttons would be off-screen).
 */
import { Alert, Badge, Box, Button, Code, Group, Paper, SimpleGrid, Stack, Table, Text, Title, VisuallyHidden } from '@mantine/core';
import { useState } from 'react';
import { formatDateTime } from '../../lib/format';
import { EmptyState, PageHeader, QueryState } from '../../lib/layout';
import { useOperation } from '../../lib/use-operation';
import { AUTHORIZED_APPS, type AuthorizedApp } from '../operations';
import { RevokeDialog } from './RevokeDialog';

export default function AuthorizedAppsPage() {
  const apps = useOperation(AUTHORIZED_APPS);
  const [revoking, setRevoking] = useState<AuthorizedApp | null>(null);
  const [revoked, setRevoked] = useState<string | null>(null);
  const merchantName = apps.data?.merchant?.name ?? 'your shop';

  return (
    <>
      <PageHeader title="Authorized apps" description={`The apps ${merchantName} allowed to work with its data, and what each may do. Revoke one to cut it off at once.`} />
      {revoked && (
        <Alert color="green" variant="light" role="status" mb="md" withCloseButton closeButtonLabel="Dismiss" onClose={() => setRevoked(null)}>
          {revoked} is revoked: its calls are refused from now on.
        </Alert>
      )}
      <QueryState
        state={apps}
        loadingLabel="Loading the authorized apps"
        isEmpty={(data) => !data.merchant?.authorizedApps.length}
        empty={<EmptyState title="No apps yet">When someone at your shop authorizes an app, it is listed here, and you can revoke it.</EmptyState>}
      >
        {(data) => (
          <>
            <Stack hiddenFrom="md" gap="sm" component="ul" aria-label={`Apps ${data.merchant!.name} authorized`} p={0} m={0} style={{ listStyle: 'none' }}>
              {data.merchant!.authorizedApps.map((app) => (
                <AppCard key={app.id} app={app} onRevoke={() => setRevoking(app)} />
              ))}
            </Stack>
            <Box visibleFrom="md">
              <Table.ScrollContainer minWidth={900}>
                <Table verticalSpacing="sm" highlightOnHover aria-label={`Apps ${data.merchant!.name} authorized`}>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th scope="col">App</Table.Th>
                      <Table.Th scope="col">Developer</Table.Th>
                      <Table.Th scope="col">Scopes</Table.Th>
                      <Table.Th scope="col">Authorized</Table.Th>
                      <Table.Th scope="col">Last used</Table.Th>
                      <Table.Th scope="col">Status</Table.Th>
                      <Table.Th scope="col">
                        <VisuallyHidden>Actions</VisuallyHidden>
                      </Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {data.merchant!.authorizedApps.map((app) => (
                      <AppRow key={app.id} app={app} onRevoke={() => setRevoking(app)} />
                    ))}
                  </Table.Tbody>
                </Table>
              </Table.ScrollContainer>
            </Box>
          </>
        )}
      </QueryState>
      <RevokeDialog
        app={revoking}
        merchantName={merchantName}
        onClose={() => setRevoking(null)}
        onRevoked={(app) => {
          setRevoking(null);
          setRevoked(app.appName);
          void apps.refetch();
        }}
      />
    </>
  );
}

function AppRow({ app, onRevoke }: { app: AuthorizedApp; onRevoke: () => void }) {
  return (
    <Table.Tr>
      <Table.Th scope="row" fw="normal">
        <Stack gap={2}>
          <Text fw={600}>{app.appName}</Text>
          <AppIdentity app={app} />
        </Stack>
      </Table.Th>
      <Table.Td>
        <Developer app={app} />
      </Table.Td>
      <Table.Td>
        <Scopes app={app} />
      </Table.Td>
      <Table.Td>{formatDateTime(app.authorizedAt)}</Table.Td>
      <Table.Td>
        <LastUsed app={app} />
      </Table.Td>
      <Table.Td>
        <Status app={app} />
      </Table.Td>
      <Table.Td>
        <RevokeButton app={app} onRevoke={onRevoke} />
      </Table.Td>
    </Table.Tr>
  );
}

function AppCard({ app, onRevoke }: { app: AuthorizedApp; onRevoke: () => void }) {
  return (
    <Paper component="li" withBorder p="md" radius="md">
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" wrap="nowrap">
          <Stack gap={2}>
            <Title order={2} size="h4">
              {app.appName}
            </Title>
            <AppIdentity app={app} />
          </Stack>
          <Status app={app} />
        </Group>
        <SimpleGrid cols={2} spacing="xs" verticalSpacing={4}>
          <Text size="sm" c="dimmed">
            Developer
          </Text>
          <Box fz="sm">
            <Developer app={app} />
          </Box>
          <Text size="sm" c="dimmed">
            Authorized
          </Text>
          <Text size="sm">{formatDateTime(app.authorizedAt)}</Text>
          <Text size="sm" c="dimmed">
            Last used
          </Text>
          <Box fz="sm">
            <LastUsed app={app} />
          </Box>
        </SimpleGrid>
        <Scopes app={app} />
        <Group justify="flex-end">
          <RevokeButton app={app} onRevoke={onRevoke} />
        </Group>
      </Stack>
    </Paper>
  );
}

function AppIdentity({ app }: { app: AuthorizedApp }) {
  return (
    <>
      {app.appDescription && (
        <Text size="sm" c="dimmed" lineClamp={2}>
          {app.appDescription}
        </Text>
      )}
      <Code fz="xs" w="fit-content">
        {app.appKey}
      </Code>
    </>
  );
}

const Developer = ({ app }: { app: AuthorizedApp }) => <>{app.developerName ?? <Text span c="dimmed" size="sm">No longer registered</Text>}</>;

const LastUsed = ({ app }: { app: AuthorizedApp }) => <>{app.lastUsedAt ? formatDateTime(app.lastUsedAt) : <Text span c="dimmed" size="sm">Not in the last 90 days</Text>}</>;

function Scopes({ app }: { app: AuthorizedApp }) {
  return (
    <Group gap={4} maw={260}>
      {app.scopes.map((scope) => (
        <Badge key={scope} variant="light" color="gray" tt="none">
          {scope}
        </Badge>
      ))}
    </Group>
  );
}

function Status({ app }: { app: AuthorizedApp }) {
  if (app.revokedAt === null) {
    return (
      <Badge color="green" variant="light">
        Active
      </Badge>
    );
  }
  return (
    <Stack gap={2}>
      <Badge color="red" variant="light">
        Revoked
      </Badge>
      <Text size="xs" c="dimmed">
        {formatDateTime(app.revokedAt)}
        {app.revokedBy?.startsWith('operator:') ? ' by the platform' : ''}
      </Text>
    </Stack>
  );
}

/** Only for an app still authorized; its accessible name is "Revoke <app name>". */
function RevokeButton({ app, onRevoke }: { app: AuthorizedApp; onRevoke: () => void }) {
  if (app.revokedAt !== null) return null;
  return (
    <Button variant="light" color="red" size="xs" onClick={onRevoke}>
      Revoke<VisuallyHidden> {app.appName}</VisuallyHidden>
    </Button>
  );
}
