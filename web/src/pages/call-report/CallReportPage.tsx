/**
 * An app's call report as charts (/apps/:appKey/calls): its calls and errors, its errors by code and
 * its latency percentiles over time, per hour or day, its busiest operations, and its limits and
 * use of the daily quota today. All from the public API: App.callReport and App.usage, which the
 * app's developer may read. The gateway adds calls to the report in batches, so the newest ones
 * show within a few seconds: "Refresh" asks again.
 */
import '@mantine/charts/styles.css';
import { BarChart, LineChart } from '@mantine/charts';
import { Badge, Button, Group, Paper, Progress, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useMemo, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import { EmptyState, QueryState, Stat, useDocumentTitle, useOperation } from '../../lib';
import { APP_CALL_REPORT, type AppUsage, type CallReport } from './operations';
import { pointsOf, RANGES, rangeBounds, type Point, type RangeOption } from './series';

const number = new Intl.NumberFormat();
const ms = (value: number | null | undefined) => (value === null || value === undefined ? '—' : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`);
const percent = (rate: number) => `${(rate * 100).toFixed(rate > 0 && rate < 0.01 ? 2 : 1)} %`;


/** A chart with its heading; the heading names the figure for screen readers, the stats above give its numbers. */
function ChartCard({ id, title, description, children }: { id: string; title: string; description: string; children: ReactNode }) {
  return (
    <Paper withBorder radius="md" p="md" component="figure" m={0} aria-labelledby={`${id}-title`} aria-describedby={`${id}-description`}>
      <Title order={3} size="h5" id={`${id}-title`}>
        {title}
      </Title>
      <Text size="sm" c="dimmed" mb="sm" id={`${id}-description`}>
        {description}
      </Text>
      {children}
    </Paper>
  );
}

function UsageToday({ usage }: { usage: AppUsage }) {
  const used = usage.callsToday;
  const share = used === null ? 0 : Math.min(100, (used / Math.max(1, usage.dailyQuota)) * 100);
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="usage-today">
      <Group justify="space-between" mb="xs">
        <Title order={3} size="h5" id="usage-today">
          Limits and use today
        </Title>
        <Badge variant="outline" color="gray.8" tt="none">
          {usage.tier === 'PAID' ? 'Paid tier' : 'Free tier'}
        </Badge>
      </Group>
      <Text size="sm" mb={4}>
        {used === null ? `Daily quota: ${number.format(usage.dailyQuota)} calls (today's count is not available on this platform)` : `${number.format(used)} of ${number.format(usage.dailyQuota)} calls today (UTC)`}
      </Text>
      <Progress value={share} color={share >= 90 ? 'red.8' : 'portico.7'} aria-label="Share of the daily quota used today" mb="xs" />
      <Text size="xs" c="dimmed">
        The count starts again at {new Date(usage.resetsAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}. Flow limit: a bucket of {number.format(usage.bucketSize)} cost points that
        refills {number.format(usage.restoreRate)} a second{usage.flowLimitPercent !== null ? `, at ${usage.flowLimitPercent} % while a violation's penalty lasts` : ''}.
      </Text>
    </Paper>
  );
}

function Report({ report, points, range }: { report: CallReport; points: Point[]; range: RangeOption }) {
  const { total } = report;
  const unit = range.granularity === 'HOUR' ? 'hour' : 'day';
  return (
    <Stack gap="md">
      <SimpleGrid cols={{ base: 1, xs: 2, lg: 4 }}>
        <Stat label="Calls" value={number.format(total.calls)} detail={range.label.toLowerCase()} testId="calls-total" />
        <Stat label="Errors" value={number.format(total.errors)} detail={`${percent(total.errorRate)} of calls`} />
        <Stat label="Latency p50 / p95 / p99" value={`${ms(total.latency.p50)}`} detail={`p95 ${ms(total.latency.p95)} · p99 ${ms(total.latency.p99)}`} />
        <Stat label="Cost charged" value={number.format(total.actualCost)} detail={`${number.format(total.requestedCost)} estimated before execution`} />
      </SimpleGrid>

      <ChartCard id="chart-calls" title="Calls and errors" description={`Per ${unit} (UTC), the calls the gateway answered or refused for this app, and those that answered with an error.`}>
        <BarChart
          h={260}
          data={points}
          dataKey="label"
          series={[
            { name: 'calls', label: 'Calls', color: 'portico.7' },
            { name: 'errors', label: 'Errors', color: 'red.8' },
          ]}
          withLegend
          tickLine="y"
          valueFormatter={(v) => number.format(v)}
          xAxisProps={{ minTickGap: 24 }}
        />
      </ChartCard>

      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <ChartCard id="chart-errors" title="Errors by code" description="The code of each failed call's first error, over the whole range.">
          {total.errorsByCode.length ? (
            <BarChart
              h={Math.max(120, 44 * total.errorsByCode.length)}
              data={total.errorsByCode}
              dataKey="code"
              orientation="vertical"
              series={[{ name: 'calls', label: 'Calls', color: 'red.8' }]}
              yAxisProps={{ width: 190 }}
              valueFormatter={(v) => number.format(v)}
              tickLine="none"
            />
          ) : (
            <Text size="sm">No errors in this range.</Text>
          )}
          {total.errorsByCode.length > 0 && (
            <Text size="xs" c="dimmed" mt="xs">
              {total.errorsByCode.map((e) => `${e.code}: ${number.format(e.calls)}`).join(' · ')}
            </Text>
          )}
        </ChartCard>

        <ChartCard id="chart-latency" title="Latency percentiles" description={`Per ${unit}, from the request's arrival at the gateway to its answer.`}>
          <LineChart
            h={260}
            data={points}
            dataKey="label"
            series={[
              { name: 'p50', label: 'p50', color: 'portico.7' },
              { name: 'p95', label: 'p95', color: 'orange.9' },
              { name: 'p99', label: 'p99', color: 'red.9' },
            ]}
            connectNulls
            withLegend
            valueFormatter={(v) => ms(v)}
            xAxisProps={{ minTickGap: 24 }}
            curveType="monotone"
          />
        </ChartCard>
      </SimpleGrid>

      <Paper withBorder radius="md" p="md" component="section" aria-labelledby="operations-title">
        <Title order={3} size="h5" id="operations-title" mb="xs">
          Operations
        </Title>
        <Table.ScrollContainer minWidth={560}>
          <Table fz="sm" striped data-testid="call-report-operations">
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
              {report.operations.map((op) => (
                <Table.Tr key={`${op.operationName}:${op.documentHash}`}>
                  <Table.Td>
                    <Text size="sm" ff="monospace">
                      {op.operationName || (op.documentHash ? '(anonymous)' : '(refused before its document was read)')}
                    </Text>
                    {op.documentHash && (
                      <Text size="xs" c="dimmed" ff="monospace">
                        {op.documentHash.slice(0, 12)}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td ta="right">{number.format(op.stats.calls)}</Table.Td>
                  <Table.Td ta="right">{number.format(op.stats.errors)}</Table.Td>
                  <Table.Td ta="right">{ms(op.stats.latency.p50)}</Table.Td>
                  <Table.Td ta="right">{ms(op.stats.latency.p95)}</Table.Td>
                  <Table.Td ta="right">{number.format(op.stats.actualCost)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </Paper>
    </Stack>
  );
}

export default function CallReportPage() {
  useDocumentTitle('Call report');
  const { appKey = '' } = useParams();
  const [rangeValue, setRangeValue] = useState(RANGES[0]!.value);
  const range = RANGES.find((r) => r.value === rangeValue) ?? RANGES[0]!;
  // The range is fixed when it is picked or refreshed, so the query's variables stay put between renders.
  const [asked, setAsked] = useState(() => Date.now());
  const bounds = useMemo(() => rangeBounds(range, asked), [range, asked]);
  const report = useOperation(APP_CALL_REPORT, { key: appKey, from: bounds.from, to: bounds.to, granularity: range.granularity });

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <Stack gap={2}>
          <Title order={2} size="h3">
            Call report
          </Title>
          <Text size="sm" c="dimmed">
            Every call of this app the gateway counted, sandbox and real merchants alike. New calls show within a few seconds.
          </Text>
        </Stack>
        <Group gap="sm">
          <SegmentedControl
            aria-label="Range"
            value={rangeValue}
            onChange={(value) => {
              setRangeValue(value);
              setAsked(Date.now());
            }}
            data={RANGES.map((r) => ({ value: r.value, label: r.label }))}
          />
          <Button
            variant="default"
            onClick={() => {
              // Within the same hour the bounds (and so the variables) stay the same: ask again anyway.
              setAsked(Date.now());
              void report.refetch();
            }}
            loading={report.loading && !!report.data}
          >
            Refresh
          </Button>
        </Group>
      </Group>
      <QueryState state={report} loadingLabel="Loading the call report">
        {(data) => {
          const app = data.developerApp;
          if (!app) return <EmptyState title="App not found">No app of yours has this key.</EmptyState>;
          const points = pointsOf(app.callReport, bounds, range.granularity);
          return (
            <Stack gap="md">
              <UsageToday usage={app.usage} />
              {app.callReport.total.calls === 0 ? (
                <EmptyState
                  title="No calls in this range"
                  action={
                    <Button component={Link} to={`/apps/${encodeURIComponent(appKey)}/explorer`} variant="light">
                      Make one in the explorer
                    </Button>
                  }
                >
                  Calls the app makes, with its sandbox token or a real merchant&apos;s, show here.
                </EmptyState>
              ) : (
                <Report report={app.callReport} points={points} range={range} />
              )}
            </Stack>
          );
        }}
      </QueryState>
    </Stack>
  );
}
