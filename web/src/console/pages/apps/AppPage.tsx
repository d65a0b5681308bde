/**
 * One app: its name, status, key and developer above tabs, each tab its own route (and chunk) under
 * /apps/:appKey/<tab>: overview, actions (suspend, reinstate, violations), limits, packages,
 * authorizations by merchant, and calls.
 */
import { Anchor, Group, Tabs, Text } from '@mantine/core';
import { Link, Outlet, useLocation, useNavigate, useOutletContext, useParams } from 'react-router';
import { CopyValue } from '../../../lib/secret';
import { ErrorAlert, PageHeader } from '../../../lib/layout';
import { PageLoader } from '../../../lib/session';
import { useOperation } from '../../../lib/use-operation';
import { AppStatusBadge } from '../../components/badges';
import { APP_HEADER, type AppHeader } from '../../operations';

export const APP_TABS = [
  { value: 'overview', label: 'Overview' },
  { value: 'actions', label: 'Status & violations' },
  { value: 'limits', label: 'Limits & keys' },
  { value: 'packages', label: 'Packages' },
  { value: 'authorizations', label: 'Authorizations' },
  { value: 'calls', label: 'Calls' },
] as const;

export interface AppTabContext {
  app: AppHeader;
  /** Reads the header again (after a change of status). */
  refreshApp: () => Promise<void>;
}

/** The app the tab is in (from the page's outlet). */
export const useAppTab = () => useOutletContext<AppTabContext>();

export default function AppPage() {
  const { appKey = '' } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const header = useOperation(APP_HEADER, { key: appKey });
  const current = location.pathname.split('/')[3] ?? 'overview';
  const app = header.data?.app;

  if (header.error) return <ErrorAlert error={header.error} title="This app could not be loaded" onRetry={() => void header.refetch()} />;
  if (!header.data) return <PageLoader label="Loading the app" />;
  if (!app) return <ErrorAlert error="No app has this key." title="App not found" />;
  return (
    <>
      <PageHeader
        title={app.name}
        description={
          <Group gap="xs" component="span" wrap="wrap">
            <AppStatusBadge status={app.status} />
            <Text span size="sm">
              Key <code data-testid="app-key">{app.key}</code>
            </Text>
            <CopyValue value={app.key} label="the app key" />
            <Text span size="sm">
              by{' '}
              <Anchor component={Link} to={`/developers/${encodeURIComponent(app.developer.id)}`} size="sm">
                {app.developer.companyName ?? app.developer.name}
              </Anchor>
            </Text>
          </Group>
        }
      />
      <Tabs value={current} onChange={(tab) => tab && navigate(`/apps/${encodeURIComponent(app.key)}/${tab}`)} activateTabWithKeyboard={false}>
        <Tabs.List aria-label="App sections" mb="lg">
          {APP_TABS.map((tab) => (
            <Tabs.Tab key={tab.value} value={tab.value}>
              {tab.label}
            </Tabs.Tab>
          ))}
        </Tabs.List>
        {APP_TABS.map((tab) => (
          <Tabs.Panel key={tab.value} value={tab.value}>
            {tab.value === current && <Outlet context={{ app, refreshApp: header.refetch } satisfies AppTabContext} />}
          </Tabs.Panel>
        ))}
      </Tabs>
    </>
  );
}
