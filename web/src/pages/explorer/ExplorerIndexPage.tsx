/**
 * /explorer: the explorer is per app, so this opens the first app's (keeping ?query= from the
 * reference); the explorer's own picker switches apps. Without an app: how to get one.
 */
import { Button } from '@mantine/core';
import { Link, Navigate, useLocation } from 'react-router';
import { EmptyState, PageHeader, QueryState, useOperation } from '../../lib';
import { APPS } from '../apps/operations';

export default function ExplorerIndexPage() {
  const apps = useOperation(APPS);
  const { search } = useLocation();
  return (
    <>
      <PageHeader title="API explorer" description="Run queries as your app against its sandbox, with the scopes each field needs beside them." />
      <QueryState
        state={apps}
        isEmpty={(data) => !data.viewerDeveloper?.apps.length}
        empty={
          <EmptyState
            title="No app yet"
            action={
              <Button component={Link} to="/apps/new">
                Create an app
              </Button>
            }
          >
            The explorer runs queries as one of your apps, in its sandbox. Create one first.
          </EmptyState>
        }
        loadingLabel="Loading your apps"
      >
        {(data) => <Navigate to={`/apps/${encodeURIComponent(data.viewerDeveloper!.apps[0]!.key)}/explorer${search}`} replace />}
      </QueryState>
    </>
  );
}
