/** /explorer: the explorer runs against one app's sandbox, so it opens the app's explorer tab (the only app's at once). */
import { Anchor, Button, List, Text } from '@mantine/core';
import { Link, Navigate } from 'react-router';
import { EmptyState, PageHeader, QueryState, useOperation } from '../../lib';
import { APPS } from './operations';

export default function ExplorerIndexPage() {
  const apps = useOperation(APPS);
  return (
    <>
      <PageHeader title="API explorer" description="Run queries against an app's sandbox, with its sandbox token filled in." />
      <QueryState
        state={{ ...apps, data: apps.data?.viewerDeveloper?.apps }}
        isEmpty={(list) => list.length === 0}
        empty={
          <EmptyState
            title="Create an app first"
            action={
              <Button component={Link} to="/apps/new">
                Create an app
              </Button>
            }
          >
            The explorer calls the API as one of your apps, on its own sandbox merchant.
          </EmptyState>
        }
      >
        {(list) =>
          list.length === 1 ? (
            <Navigate to={`/apps/${encodeURIComponent(list[0]!.key)}/explorer`} replace />
          ) : (
            <>
              <Text mb="sm">Choose the app to call the API as:</Text>
              <List aria-label="Apps">
                {list.map((app) => (
                  <List.Item key={app.key}>
                    <Anchor component={Link} to={`/apps/${encodeURIComponent(app.key)}/explorer`}>
                      {app.name}
                    </Anchor>
                  </List.Item>
                ))}
              </List>
            </>
          )
        }
      </QueryState>
    </>
  );
}
