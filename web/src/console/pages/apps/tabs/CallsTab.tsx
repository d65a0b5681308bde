/**
 * An app's calls (App.callReport): over the last day (per hour), week (per hour) or month (per day),
 * the totals, calls and errors over time as a chart, and the operations it called most.
 */
import '@mantine/charts/styles.css';
import { LineChart } from '@mantine/charts';
import { Badge, Card, Group, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useMemo, useState } from 'react';
import { formatNumber } from '../../../../lib/format';
import { EmptyState, QueryState } from '../../../../lib/layout';
import { useOperation } from '../../../../lib/use-operation';
import { APP_CALLS, type CallGranularity, type CallReport } from '../../../operations';
import { useAppTab } from '../AppPage';
import { Stat } from '../../../components/Field';

const RANGES: Record<string, { label: string; hours: number; granularity: CallGranularity }> = {
  day: { label: 'Last 24 hours', hours: 24, granularity: 'HOUR' },
  week: { label: 'Last 7 days', hours: 24 * 7, granularity: 'HOUR' },
  month: { label: 'Last 30 days', hours: 24 * 30, granularity: 'DAY' },
};

function rangeOf(name: string) {
  const range = RANGES[name]!;
  const to = new Date();
  // To the end of the current hour (or day), so the current period is whole on the chart.
  if (range.granularity === 'DAY') to.setUTCHours(24, 0, 0, 0);
  else to.setUTCMinutes(60, 0, 0);
  return { from: new Date(to.getTime() - range.hours * 3600_000).toISOString(), to: to.toISOString(), granularity: range.granularity };
}

const periodLabel = (iso: string, granularity: CallGranularity) =>
  new Intl.DateTimeFormat(undefined, granularity === 'DAY' ? { month: 'short', day: 'numeric' } : { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));

function Report({ report, granularity }: { report: CallReport; granularity: CallGranularity }) {
  const { total } = report;
  const points = report.periods.map((period) => ({ period: periodLabel(period.start, granularity), Calls: period.stats.calls, Errors: period.stats.errors }));
  return (
    <Stack gap="xl">
      <Card withBorder padding="lg">
        <SimpleGrid cols={{ base: 2, sm: 5 }}>
          <Stat label="Calls" value={formatNumber(total.calls)} />
          <Stat label="Errors" value={`${formatNumber(total.errors)} (${(total.errorRate * 100).toFixed(1)} %)`} />
          <Stat label="Latency p50" value={total.latency.p50 === null ? '—' : `${total.latency.p50.toFixed(0)} ms`} />
          <Stat label="Latency p95" value={total.latency.p95 === null ? '—' : `${total.latency.p95.toFixed(0)} ms`} />
          <Stat label="Cost charged" value={formatNumber(total.actualCost)} />
        </SimpleGrid>
        {total.errorsByCode.length > 0 && (
          <Group gap={6} mt="md">
            <Text size="sm">Errors by code:</Text>
            {total.errorsByCode.map((entry) => (
              <Badge key={entry.code} variant="light" color={entry.code === 'THROTTLED' || entry.code === 'QUOTA_EXCEEDED' ? 'orange' : 'red'} tt="none">
                {entry.code}: {formatNumber(entry.calls)}
              </Badge>
            ))}
          </Group>
        )}
      </Card>

      <section aria-labelledby="calls-chart">
        <Title order={2} size="h4" id="calls-chart" mb="sm">
          Calls and errors per {granularity === 'DAY' ? 'day' : 'hour'} (UTC)
        </Title>
        <div role="img" aria-label={`Chart of the app's calls and errors per ${granularity === 'DAY' ? 'day' : 'hour'}: ${formatNumber(total.calls)} calls, ${formatNumber(total.errors)} errors in all`}>
          <LineChart
            h={260}
            data={points}
            dataKey="period"
            series={[
              { name: 'Calls', color: 'blue.6' },
              { name: 'Errors', color: 'red.6' },
            ]}
            curveType="monotone"
            withDots={points.length < 40}
            withLegend
          />
        </div>
      </section>

      <section aria-labelledby="calls-operations">
        <Title order={2} size="h4" id="calls-operations" mb="sm">
          Operations
        </Title>
        <Table striped>
          <Table.Caption>The operations the app called most in the range</Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Operation</Table.Th>
              <Table.Th>Calls</Table.Th>
              <Table.Th>Errors</Table.Th>
              <Table.Th>Latency p95</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {report.operations.map((operation) => (
              <Table.Tr key={`${operation.operationName}-${operation.documentHash}`}>
                <Table.Td>
                  <Text size="sm" ff="monospace">
                    {operation.operationName || '(anonymous or refused before reading)'}
                  </Text>
                </Table.Td>
                <Table.Td>{formatNumber(operation.stats.calls)}</Table.Td>
                <Table.Td>
                  {formatNumber(operation.stats.errors)} ({(operation.stats.errorRate * 100).toFixed(1)} %)
                </Table.Td>
                <Table.Td>{operation.stats.latency.p95 === null ? '—' : `${operation.stats.latency.p95.toFixed(0)} ms`}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </section>
    </Stack>
  );
}

export default function CallsTab() {
  const { app } = useAppTab();
  const [rangeName, setRangeName] = useState('week');
  const range = useMemo(() => rangeOf(rangeName), [rangeName]);
  const state = useOperation(APP_CALLS, { key: app.key, ...range });
  return (
    <Stack gap="md">
      <SegmentedControl
        aria-label="Range"
        value={rangeName}
        onChange={setRangeName}
        data={Object.entries(RANGES).map(([value, r]) => ({ value, label: r.label }))}
        w="fit-content"
      />
      <QueryState
        state={state}
        loadingLabel="Loading the calls"
        isEmpty={(data) => !data.app || data.app.callReport.total.calls === 0}
        empty={<EmptyState title="No calls in this range">The app's calls show here within seconds of being made.</EmptyState>}
      >
        {(data) => <Report report={data.app!.callReport} granularity={range.granularity} />}
      </QueryState>
    </Stack>
  );
}
