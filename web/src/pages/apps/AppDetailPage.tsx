/**
 * One app: its name, status and key above tabs, each tab its own route (and chunk) under
 * /apps/:appKey/<tab>, rendered in the active tab's panel.
 */
import { Group, Tabs, Text } from '@mantine/core';
import { Outlet, useLocation, useNavigate, useParams } from 'react-router';
import { CopyValue, ErrorAlert, PageHeader, PageLoader, useOperation } from '../../lib';
import { AppStatusBadge } from './badges';
import { APP_HEADER } from './operations';

export const APP_TABS = [
  { value: 'settings', label: 'Settings' },
  { value: 'review', label: 'Status & review' },
  { value: 'sandbox', label: 'Sandbox' },
  { value: 'explorer', label: 'API explorer' },
  { value: 'packages', label: 'Packages' },
  { value: 'messages', label: 'Messages' },
  { value: 'calls', label: 'Call report' },
  { value: 'usage', label: 'Limits & usage' },
] as const;

export default function AppDetailPage() {
  const { appKey = '' } = useParams();
  const location = useLocation();
  const navigate = useNavigate();
  const header = useOperation(APP_HEADER, { key: appKey });
  const current = location.pathname.split('/')[3] ?? 'settings';
  const app = header.data?.developerApp;

  if (header.error) return <ErrorAlert error={header.error} title="This app could not be loaded" onRetry={() => void header.refetch()} />;
  if (!header.data) return <PageLoader label="Loading the app" />;
  if (!app) return <ErrorAlert error="No app of yours has this key." title="App not found" />;

  return (
    <>
      <PageHeader
        title={app.name}
        description={
          <Group gap="xs" component="span">
            <AppStatusBadge status={app.status} />
            <Text span size="sm">
              Key <code data-testid="app-key">{app.key}</code>
            </Text>
            <CopyValue value={app.key} label="the app key" />
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
            {tab.value === current && <Outlet context={{ app, refreshApp: header.refetch }} />}
          </Tabs.Panel>
        ))}
      </Tabs>
    </>
  );
}
