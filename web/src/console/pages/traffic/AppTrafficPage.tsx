/**
 * One app's traffic (/traffic/apps/:appKey), the drill from the platform's: its calls, errors,
 * throttled and quota-exceeded calls and latency over the range, its busiest operations, and its
 * limits and use of the daily quota today. From app(key) { callReport usage }.
 */
import { Anchor, Badge, Button, Group, Paper, Progress, Stack, Table, Text, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import { Link, useParams } from 'react-router';
import { EmptyState, PageHeader, QueryState, useOperation } from '../../../lib';
import { formatCount, formatMs, Totals, TrafficCharts } from './charts';
import { APP_TRAFFIC, type AppTraffic } from './operations';
import { initialChoice, RangePicker, rangeOf, type RangeChoice } from './RangePicker';
import { pointsOf } from './series';

function UsageToday({ usage }: { usage: AppTraffic['usage'] }) {
  const used = usage.callsToday;
  const share = used === null ? 0 : Math.min(100, (used / Math.max(1, usage.dailyQuota)) * 100);
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="usage-today">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h5" id="usage-today">
          Limits and use today
        </Title>
        <Badge variant="outline" color="gray.8" tt="none">
          {usage.tier === 'PAID' ? 'Paid tier' : 'Free tier'}
        </Badge>
      </Group>
      <Text size="sm" mb={4}>
        {used === null ? `Daily quota: ${formatCount(usage.dailyQuota)} calls (today's count is not available on this platform)` : `${formatCount(used)} of ${formatCount(usage.dailyQuota)} calls today (UTC)`}
      </Text>
      <Progress value={share} color={share >= 90 ? 'red.8' : 'portico.7'} aria-label="Share of the daily quota used today" mb="xs" />
      <Text size="xs" c="dimmed">
        A bucket of {formatCount(usage.bucketSize)} cost points refilled {formatCount(usage.restoreRate)} a second
        {usage.flowLimitPercent !== null ? `, at ${usage.flowLimitPercent} % while a violation's penalty lasts` : ''}.
      </Text>
    </Paper>
  );
}

function Operations({ operations }: { operations: AppTraffic['callReport']['operations'] }) {
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="operations-title">
      <Title order={2} size="h5" id="operations-title" mb="xs">
        Operations
      </Title>
      <Table.ScrollContainer minWidth={560}>
        <Table fz="sm" striped aria-label="Calls per operation">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Operation</Table.Th>
              <Table.Th ta="right">Calls</Table.Th>
              <Table.Th ta="right">Errors</Table.Th>
              <Table.Th ta="right">p50</Table.Th>
              <Table.Th ta="right">p95</Table.Th>
              <Table.Th ta="right">Cost</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {operations.map((op) => (
              <Table.Tr key={`${op.operationName}:${op.documentHash}`}>
                <Table.Td>
                  <Text size="sm" ff="monospace">
                    {op.operationName || (op.documentHash ? '(anonymous)' : '(refused before its document was read)')}
                  </Text>
                </Table.Td>
                <Table.Td ta="right">{formatCount(op.stats.calls)}</Table.Td>
                <Table.Td ta="right">{formatCount(op.stats.errors)}</Table.Td>
                <Table.Td ta="right">{formatMs(op.stats.latency.p50)}</Table.Td>
                <Table.Td ta="right">{formatMs(op.stats.latency.p95)}</Table.Td>
                <Table.Td ta="right">{formatCount(op.stats.actualCost)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Paper>
  );
}

export default function AppTrafficPage() {
  const { appKey = '' } = useParams();
  const [choice, setChoice] = useState<RangeChoice>(() => initialChoice());
  const { range, problem } = useMemo(() => rangeOf(choice), [choice]);
  const report = useOperation(APP_TRAFFIC, { key: appKey, ...(range ?? { from: '', to: '', granularity: 'DAY' as const }) }, { skip: !range });
  const app = report.data?.app;
  const points = useMemo(() => (app && range ? pointsOf(app.callReport.periods, range) : []), [app, range]);

  return (
    <>
      <PageHeader
        title={app ? `Traffic of ${app.name}` : 'Traffic of an app'}
        description={
          app ? (
            <>
              <Text span ff="monospace">
                {app.key}
              </Text>{' '}
              · {app.developer.name} · {app.status.toLowerCase()}
            </>
          ) : undefined
        }
        actions={
          <>
            <Button component={Link} to="/traffic" variant="default">
              The platform&apos;s traffic
            </Button>
            <Button component={Link} to={`/apps/${encodeURIComponent(appKey)}`} variant="light">
              Open the app
            </Button>
          </>
        }
      />
      <Stack gap="md">
        <RangePicker choice={choice} onChange={setChoice} refreshing={report.loading && !!report.data} onRefresh={() => void report.refetch()} />
        {problem ? null : (
          <QueryState state={report} loadingLabel="Loading the app's calls">
            {(data) =>
              !data.app ? (
                <EmptyState title="App not found" action={<Anchor component={Link} to="/traffic">Back to the platform's traffic</Anchor>}>
                  No app has the key {appKey}.
                </EmptyState>
              ) : (
                <Stack gap="md">
                  <UsageToday usage={data.app.usage} />
                  <Totals total={data.app.callReport.total} />
                  {data.app.callReport.total.calls === 0 ? (
                    <EmptyState title="No calls in this range">The app made no call the gateways counted in this range.</EmptyState>
                  ) : (
                    <>
                      <TrafficCharts points={points} total={data.app.callReport.total} granularity={range!.granularity} whose="the app's" />
                      <Operations operations={data.app.callReport.operations} />
                    </>
                  )}
                </Stack>
              )
            }
          </QueryState>
        )}
      </Stack>
    </>
  );
}
