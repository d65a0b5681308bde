/**
 * The platform's traffic (/traffic): calls, errors and latency over time, per hour or day over a
 * range; throttled and quota-exceeded calls; the top apps by calls, cost and errors (each a drill
 * into that app's own report); and the message subscriptions open now. From platformCallReport and
 * liveSubscriptions; the gateways add calls every few seconds, so "Refresh" shows the newest.
 */
import { Anchor, Badge, Group, Paper, Stack, Table, Tabs, Text, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import { Link } from 'react-router';
import { EmptyState, ErrorAlert, formatDateTime, PageHeader, PageLoader, QueryState, Stat, useOperation } from '../../../lib';
import { formatCount, formatRate, Totals, TrafficCharts } from './charts';
import { LIVE_SUBSCRIPTIONS, PLATFORM_TRAFFIC, type LiveSubscriptions, type TopApp } from './operations';
import { initialChoice, RangePicker, rangeOf, type RangeChoice } from './RangePicker';
import { pointsOf } from './series';

function TopAppsTable({ apps, label }: { apps: TopApp[]; label: string }) {
  if (apps.length === 0) return <Text size="sm">No app called in this range.</Text>;
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table striped aria-label={label}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>App</Table.Th>
            <Table.Th ta="right">Calls</Table.Th>
            <Table.Th ta="right">Errors</Table.Th>
            <Table.Th ta="right">Error rate</Table.Th>
            <Table.Th ta="right">Cost</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {apps.map(({ app, stats }) => (
            <Table.Tr key={app.key} data-testid="top-app">
              <Table.Td>
                <Anchor component={Link} to={`/traffic/apps/${encodeURIComponent(app.key)}`} size="sm" aria-label={`${app.name}: its traffic`}>
                  {app.name}
                </Anchor>
                <Text size="xs" c="dimmed">
                  {app.key} · {app.developer.name}
                  {app.status === 'SUSPENDED' && (
                    <Badge ml="xs" size="xs" color="red" variant="light">
                      suspended
                    </Badge>
                  )}
                </Text>
              </Table.Td>
              <Table.Td ta="right">{formatCount(stats.calls)}</Table.Td>
              <Table.Td ta="right">{formatCount(stats.errors)}</Table.Td>
              <Table.Td ta="right">{formatRate(stats.errorRate)}</Table.Td>
              <Table.Td ta="right">{formatCount(stats.actualCost)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function LiveSubscriptionsPanel({ live }: { live: LiveSubscriptions }) {
  return (
    <Stack gap="xs">
      <Text size="sm" c="dimmed">
        {live.reportedAt ? `As the gateways reported at ${formatDateTime(live.reportedAt)}.` : 'No gateway reported in the last minute.'}
      </Text>
      {live.apps.length === 0 ? (
        <Text size="sm">No subscription is open.</Text>
      ) : (
        <Table.ScrollContainer minWidth={480}>
          <Table striped aria-label="Open subscriptions per app">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>App</Table.Th>
                <Table.Th ta="right">Subscriptions</Table.Th>
                <Table.Th ta="right">Merchants</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {live.apps.map((row) => (
                <Table.Tr key={row.app.key}>
                  <Table.Td>
                    <Anchor component={Link} to={`/traffic/apps/${encodeURIComponent(row.app.key)}`} size="sm">
                      {row.app.name}
                    </Anchor>
                    <Text size="xs" c="dimmed">
                      {row.app.key} · {row.app.developer.name}
                    </Text>
                  </Table.Td>
                  <Table.Td ta="right">{formatCount(row.subscriptions)}</Table.Td>
                  <Table.Td ta="right">{formatCount(row.merchants)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}

export default function TrafficPage() {
  const [choice, setChoice] = useState<RangeChoice>(() => initialChoice());
  const { range, problem } = useMemo(() => rangeOf(choice), [choice]);
  const report = useOperation(PLATFORM_TRAFFIC, range ?? { from: '', to: '', granularity: 'DAY' }, { skip: !range });
  const live = useOperation(LIVE_SUBSCRIPTIONS);
  const points = useMemo(() => (report.data && range ? pointsOf(report.data.platformCallReport.periods, range) : []), [report.data, range]);

  return (
    <>
      <PageHeader title="Traffic and reports" description="Every call the gateways counted, for the whole platform. New calls show within a few seconds." />
      <Stack gap="md">
        <RangePicker
          choice={choice}
          onChange={setChoice}
          refreshing={report.loading && !!report.data}
          onRefresh={() => {
            // A preset's bounds also move with the clock (its own refetch, which wins being later); a custom range asks again here.
            void report.refetch();
            void live.refetch();
          }}
        />
        {problem ? null : (
          <QueryState state={report} loadingLabel="Loading the platform's calls">
            {({ platformCallReport: data }) => (
              <Stack gap="md">
                <Totals
                  total={data.total}
                  extra={<Stat label="Live subscriptions" value={live.data ? formatCount(live.data.liveSubscriptions.total) : '—'} detail="Open now, across the gateways" testId="traffic-live-subscriptions" />}
                />
                {data.total.calls === 0 ? (
                  <EmptyState title="No calls in this range">Pick a longer range, or wait for apps to call.</EmptyState>
                ) : (
                  <TrafficCharts points={points} total={data.total} granularity={range!.granularity} whose="every app's" />
                )}
                <Paper withBorder radius="md" p="md" component="section" aria-labelledby="top-apps-title">
                  <Title order={2} size="h4" id="top-apps-title" mb="xs">
                    Top apps
                  </Title>
                  <Tabs defaultValue="calls">
                    <Tabs.List>
                      <Tabs.Tab value="calls">By calls</Tabs.Tab>
                      <Tabs.Tab value="cost">By cost</Tabs.Tab>
                      <Tabs.Tab value="errors">By errors</Tabs.Tab>
                    </Tabs.List>
                    <Tabs.Panel value="calls" pt="sm">
                      <TopAppsTable apps={data.byCalls} label="Top apps by calls" />
                    </Tabs.Panel>
                    <Tabs.Panel value="cost" pt="sm">
                      <TopAppsTable apps={data.byCost} label="Top apps by cost" />
                    </Tabs.Panel>
                    <Tabs.Panel value="errors" pt="sm">
                      <TopAppsTable apps={data.byErrors} label="Top apps by errors" />
                    </Tabs.Panel>
                  </Tabs>
                </Paper>
              </Stack>
            )}
          </QueryState>
        )}
        <Paper withBorder radius="md" p="md" component="section" aria-labelledby="live-title">
          <Group justify="space-between" mb="xs">
            <Title order={2} size="h4" id="live-title">
              Live subscriptions
            </Title>
            {live.data && <Badge variant="light">{formatCount(live.data.liveSubscriptions.total)} open</Badge>}
          </Group>
          {live.error ? (
            <ErrorAlert error={live.error} title="The open subscriptions could not be read" onRetry={() => void live.refetch()} />
          ) : live.data ? (
            <LiveSubscriptionsPanel live={live.data.liveSubscriptions} />
          ) : (
            <PageLoader label="Loading the open subscriptions" />
          )}
        </Paper>
      </Stack>
    </>
  );
}
