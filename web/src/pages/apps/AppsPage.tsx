/** The developer's apps, newest first, and the way to create one. */
import { Anchor, Button, Card, Group, SimpleGrid, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';
import { EmptyState, formatDateTime, PageHeader, QueryState, useOperation } from '../../lib';
import { AppStatusBadge, SandboxBadge } from './badges';
import { APPS } from './operations';

export default function AppsPage() {
  const apps = useOperation(APPS);
  return (
    <>
      <PageHeader
        title="Your apps"
        description="Each app gets a key, a secret and a sandbox merchant of its own."
        actions={
          <Button component={Link} to="/apps/new">
            Create an app
          </Button>
        }
      />
      <QueryState
        state={{ ...apps, data: apps.data?.viewerDeveloper?.apps }}
        loadingLabel="Loading your apps"
        isEmpty={(list) => list.length === 0}
        empty={
          <EmptyState
            title="No apps yet"
            action={
              <Button component={Link} to="/apps/new">
                Create your first app
              </Button>
            }
          >
            Create an app to get its credentials and a sandbox with products, orders and buyers to try the API on.
          </EmptyState>
        }
      >
        {(list) => (
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} component="ul" style={{ listStyle: 'none', padding: 0, margin: 0 }} aria-label="Apps">
            {list.map((app) => (
              <Card key={app.key} withBorder padding="lg" component="li">
                <Stack gap="xs">
                  <Group justify="space-between" wrap="nowrap">
                    <Anchor component={Link} to={`/apps/${encodeURIComponent(app.key)}`} fw={600} size="lg">
                      {app.name}
                    </Anchor>
                    <AppStatusBadge status={app.status} />
                  </Group>
                  <Text size="sm" c="dimmed" lineClamp={2}>
                    {app.description || 'No description.'}
                  </Text>
                  <Group gap="xs">
                    <Text size="xs" c="dimmed">
                      Sandbox
                    </Text>
                    <SandboxBadge state={app.sandbox.state} />
                  </Group>
                  <Text size="xs" c="dimmed">
                    Key <code>{app.key}</code> · created {formatDateTime(app.createdAt)}
                  </Text>
                </Stack>
              </Card>
            ))}
          </SimpleGrid>
        )}
      </QueryState>
    </>
  );
}
