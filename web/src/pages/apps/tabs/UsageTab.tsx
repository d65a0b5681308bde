/** The app's limits as the gateway applies them now, its calls today against the daily quota, and violations. */
import { Alert, Badge, Group, Progress, SimpleGrid, Stack, Table, Text } from '@mantine/core';
import { EmptyState, formatDateTime, formatNumber, QueryState, useOperation } from '../../../lib';
import { useAppTab, useTabTitle } from '../app-context';
import { APP_USAGE } from '../operations';
import { Section } from '../section';

function Figure({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <Stack gap={0}>
      <Text size="sm" c="dimmed">
        {label}
      </Text>
      <Text fw={700} size="xl">
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Stack>
  );
}

export default function UsageTab() {
  useTabTitle('Limits and usage');
  const { app: header } = useAppTab();
  const usage = useOperation(APP_USAGE, { key: header.key });
  return (
    <QueryState state={{ ...usage, data: usage.data?.developerApp ?? undefined }} loadingLabel="Loading the limits">
      {({ usage: u, violations }) => {
        const share = u.callsToday === null ? null : Math.min(100, (u.callsToday / Math.max(1, u.dailyQuota)) * 100);
        return (
          <Stack maw={900}>
            <Section title="Today" description={`The daily quota starts again at ${formatDateTime(u.resetsAt)} (UTC midnight).`}>
              <SimpleGrid cols={{ base: 2, sm: 4 }}>
                <Figure label="Calls today" value={formatNumber(u.callsToday)} hint={u.callsToday === null ? 'not visible on this deployment' : undefined} />
                <Figure label="Daily quota" value={formatNumber(u.dailyQuota)} />
                <Figure label="Bucket size" value={formatNumber(u.bucketSize)} hint="cost points" />
                <Figure label="Restore rate" value={`${formatNumber(u.restoreRate)}/s`} hint="cost points" />
              </SimpleGrid>
              {share !== null && <Progress value={share} aria-label={`Daily quota used: ${share.toFixed(1)} %`} color={share > 90 ? 'red' : share > 70 ? 'orange' : undefined} />}
              <Group gap="xs">
                <Text size="sm">Tier</Text>
                <Badge variant="light" color={u.tier === 'PAID' ? 'grape' : 'teal'}>
                  {u.tier.toLowerCase()}
                </Badge>
              </Group>
              {u.flowLimitPercent !== null && (
                <Alert color="orange" variant="light" role="status" title="Reduced flow limits">
                  A violation penalty leaves the app {u.flowLimitPercent} % of its flow limits (the figures above are already reduced).
                </Alert>
              )}
            </Section>
            <Section title="Violations" description="What operators recorded against the app, newest first.">
              {violations.length === 0 ? (
                <EmptyState title="No violations" />
              ) : (
                <Table aria-label="Violations">
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>Kind</Table.Th>
                      <Table.Th>What happened</Table.Th>
                      <Table.Th>Penalty</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {violations.map((v) => (
                      <Table.Tr key={v.id}>
                        <Table.Td>{v.kind}</Table.Td>
                        <Table.Td>{v.note}</Table.Td>
                        <Table.Td>
                          {v.penalty.toLowerCase().replaceAll('_', ' ')}
                          {v.penaltyActive ? ' (active)' : ''}
                          {v.penaltyEndsAt ? `, until ${formatDateTime(v.penaltyEndsAt)}` : ''}
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
            </Section>
          </Stack>
        );
      }}
    </QueryState>
  );
}
