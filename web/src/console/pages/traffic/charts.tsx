/**
 * The traffic pages' figures: the headline numbers and the charts over time (calls and errors,
 * throttled and quota-exceeded calls, latency percentiles) and the errors by code. Each chart is a
 * <figure> named by its heading; the numbers above it say in text what it shows.
 */
import '@mantine/charts/styles.css';
import { BarChart, LineChart } from '@mantine/charts';
import { Paper, SimpleGrid, Text, Title } from '@mantine/core';
import type { ReactNode } from 'react';
import { Stat } from '../../../lib';
import type { CallStats, Granularity } from './operations';
import { callsWithCode, QUOTA_EXCEEDED, THROTTLED, type Point } from './series';

const number = new Intl.NumberFormat();
export const formatCount = (value: number) => number.format(value);
export const formatMs = (value: number | null | undefined) => (value === null || value === undefined ? '—' : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`);
export const formatRate = (rate: number) => `${(rate * 100).toFixed(rate > 0 && rate < 0.01 ? 2 : 1)} %`;


export function ChartCard({ id, title, description, children }: { id: string; title: string; description: string; children: ReactNode }) {
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

export function Totals({ total, extra }: { total: CallStats; extra?: ReactNode }) {
  const throttled = callsWithCode(total, THROTTLED);
  const quota = callsWithCode(total, QUOTA_EXCEEDED);
  return (
    <SimpleGrid cols={{ base: 1, xs: 2, lg: extra ? 6 : 5 }}>
      <Stat label="Calls" value={formatCount(total.calls)} testId="traffic-calls" />
      <Stat label="Errors" value={formatCount(total.errors)} detail={`${formatRate(total.errorRate)} of calls`} testId="traffic-errors" />
      <Stat label="Latency p50" value={formatMs(total.latency.p50)} detail={`p95 ${formatMs(total.latency.p95)} · p99 ${formatMs(total.latency.p99)}`} />
      <Stat label="Throttled" value={formatCount(throttled)} detail="Refused by flow control (THROTTLED)" testId="traffic-throttled" />
      <Stat label="Quota exceeded" value={formatCount(quota)} detail="Refused past the daily quota (QUOTA_EXCEEDED)" testId="traffic-quota-exceeded" />
      {extra}
    </SimpleGrid>
  );
}

export function TrafficCharts({ points, total, granularity, whose }: { points: Point[]; total: CallStats; granularity: Granularity; whose: string }) {
  const unit = granularity === 'HOUR' ? 'hour' : 'day';
  // A dot per point only while they can be told apart: a week per hour is 168 of them per line.
  const withDots = points.length <= 48;
  return (
    <>
      <ChartCard id="chart-calls" title="Calls and errors" description={`Per ${unit}, ${whose} calls the gateways answered or refused, and those that answered with an error.`}>
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
          valueFormatter={formatCount}
          xAxisProps={{ minTickGap: 24 }}
        />
      </ChartCard>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <ChartCard id="chart-refused" title="Throttled and quota exceeded" description={`Per ${unit}, calls refused by flow control (THROTTLED) and past the daily quota (QUOTA_EXCEEDED).`}>
          <LineChart
            h={240}
            data={points}
            dataKey="label"
            series={[
              { name: 'throttled', label: 'Throttled', color: 'orange.9' },
              { name: 'quotaExceeded', label: 'Quota exceeded', color: 'grape.8' },
            ]}
            withLegend
            withDots={withDots}
            valueFormatter={formatCount}
            xAxisProps={{ minTickGap: 24 }}
          />
        </ChartCard>
        <ChartCard id="chart-latency" title="Latency percentiles" description={`Per ${unit}, from a request's arrival at the gateway to its answer.`}>
          <LineChart
            h={240}
            data={points}
            dataKey="label"
            series={[
              { name: 'p50', label: 'p50', color: 'portico.7' },
              { name: 'p95', label: 'p95', color: 'orange.9' },
              { name: 'p99', label: 'p99', color: 'red.9' },
            ]}
            connectNulls
            withLegend
            withDots={withDots}
            valueFormatter={(v) => formatMs(v)}
            xAxisProps={{ minTickGap: 24 }}
            curveType="monotone"
          />
        </ChartCard>
      </SimpleGrid>
      <ChartCard id="chart-error-codes" title="Errors by code" description="The code of each failed call's first error, over the whole range.">
        {total.errorsByCode.length ? (
          <>
            <BarChart
              h={Math.max(120, 40 * total.errorsByCode.length)}
              data={total.errorsByCode}
              dataKey="code"
              orientation="vertical"
              series={[{ name: 'calls', label: 'Calls', color: 'red.8' }]}
              yAxisProps={{ width: 190 }}
              valueFormatter={formatCount}
              tickLine="none"
            />
            <Text size="xs" c="dimmed" mt="xs">
              {total.errorsByCode.map((e) => `${e.code}: ${formatCount(e.calls)}`).join(' · ')}
            </Text>
          </>
        ) : (
          <Text size="sm">No errors in this range.</Text>
        )}
      </ChartCard>
    </>
  );
}
